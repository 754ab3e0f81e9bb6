"""rules.py: the rules of the game, in Python.

Waves, score, lives, game over and the next game. physics.lua (Lua) tells
this script what happened in space through events; this script decides
what it means. Everything it knows lives on the Game entity, in the
`Game` component: select the entity named "score ..." and the Inspector
shows the score, the lives, the timers, and the `restart` flag.
"""
import math

import ecs

W, H = 160.0, 100.0   # the arena; physics.lua wraps at the same bounds
LIVES = 3             # ships per game
POINTS = {3: 20, 2: 50, 1: 100}  # by asteroid size: small ones are worth more
FIRST_WAVE = 3        # big asteroids in wave 1; each wave brings one more...
SPEED_UP = 0.4        # ...and is faster: wave n flies 1 + 0.4 * (n - 1) times wave 1's speed
WAVE_EVERY = 20.0     # seconds: the next wave comes even if this one is not cleared...
WAVE_PAUSE = 2.0      # ...or this long after the arena is cleared, if that is sooner
RESPAWN_AFTER = 2.0   # seconds between losing a ship and the next one
SHIELD = 2.5          # seconds a new ship cannot be hit
RESTART_AFTER = 5     # seconds from game over to the next game

# A component with both kinds of fields: numbers for the Inspector to
# edit, and two booleans it shows as check boxes.
ecs.component("Game", {
    "score": 0, "lives": LIVES, "wave": 0, "games": 1, "high_score": 0,
    "over": False, "restart": False,
    "next_wave_in": 0.0, "respawn_in": 0.0,
})


shown = None  # the scoreboard text last written, so the Name is set only when it changes


def spawn_ship():
    # Only what the rules need. physics.lua gives it a Shape, a Color and a
    # Rotation in the next frame (its dress_ship system).
    ecs.spawn({"Name": "ship", "Position": {"x": W / 2, "y": H / 2},
               "Ship": {"invulnerable": SHIELD}})


def start_wave(number):
    count = FIRST_WAVE + number - 1
    speed = 7.0 * (1 + SPEED_UP * (number - 1))
    for i in range(count):
        # A point on the border, far from the ship in the middle.
        along = ecs.random_range(0, 2 * (W + H))
        if along < W:
            x, y = along, 0.0
        elif along < W + H:
            x, y = W, along - W
        elif along < 2 * W + H:
            x, y = along - W - H, H
        else:
            x, y = 0.0, along - 2 * W - H
        # Roughly towards the middle, where the ship is: a wave is an attack.
        angle = math.atan2(H / 2 - y, W / 2 - x) + ecs.random_range(-0.5, 0.5)
        v = speed * ecs.random_range(0.7, 1.3)
        ecs.spawn({
            "Name": f"asteroid {number}.{i + 1}",
            "Position": {"x": x, "y": y},
            "Velocity": {"x": v * math.cos(angle), "y": v * math.sin(angle)},
            "Asteroid": {"size": 3, "spin": ecs.random_range(-1.5, 1.5)},
        })
    print(f"wave {number}: {count} asteroids")


def new_game(game):
    """Clear the arena and start again. Used by the countdown after a game
    over and by ticking Game.restart in the Inspector, at any time."""
    doomed = [id for name in ("Asteroid", "Bullet", "Ship", "Debris")
              for id, _ in ecs.query([name])]
    for id in doomed:  # despawning after the loops, not during them
        ecs.despawn(id)
    game["high_score"] = max(game["high_score"], game["score"])
    game.update(score=0, lives=LIVES, wave=0, over=False, restart=False,
                next_wave_in=1.0, respawn_in=0.0)
    game["games"] += 1
    spawn_ship()
    print(f"new game {game['games']}: {LIVES} lives, high score {game['high_score']}")
    ecs.emit("restart", {"game": game["games"]})


def game_over(game):
    global shown
    shown = None  # the countdown writes the name now; the director writes it again after
    game["over"] = True
    game["high_score"] = max(game["high_score"], game["score"])
    print(f"GAME OVER: score {game['score']} at wave {game['wave']} (game {game['games']}); "
          f"a new game starts in {RESTART_AFTER} s, or tick Game.restart in the Inspector")
    ecs.emit("game_over", {"game": game["games"], "score": game["score"], "wave": game["wave"]})
    ecs.start("countdown", countdown, game["games"])


def countdown(game_number):
    """A coroutine (a generator): shows the seconds left on the Game
    entity's name, then asks for a new game through the same flag the
    Inspector sets."""
    for left in range(RESTART_AFTER, 0, -1):
        game = ecs.get(GAME, "Game")
        if not game["over"] or game["games"] != game_number:
            return  # someone restarted already
        ecs.set(GAME, "Name", f"GAME OVER · score {game['score']} · new game in {left} s")
        yield ecs.wait_seconds(1)
    game = ecs.get(GAME, "Game")
    if game["over"] and game["games"] == game_number:
        game["restart"] = True
        ecs.set(GAME, "Game", game)


# The Game entity is spawned once. Its id is kept in ecs.persist, so that
# saving this script (a hot reload runs this file again) finds it instead
# of starting a second game.
GAME = ecs.persist.get("game")
if GAME is None or not ecs.exists(GAME):
    GAME = ecs.spawn({
        "Name": "score 0",
        # Above the arena's top-left corner: tick Names above the scene to
        # read the score there.
        "Position": {"x": 0.0, "y": H + 6},
        "Shape": {"kind": "rect", "size": 2.0},
        "Color": {"r": 1.0, "g": 0.8, "b": 0.2},
        "Game": {"next_wave_in": 0.5},
    })
    ecs.persist["game"] = GAME
    spawn_ship()
    print(f"game 1: {LIVES} lives; the autopilot flies the ship (scripts/autopilot.lua)")


# The events physics.lua sends. Handlers run at the start of the next
# frame, before any system, in the order the events were emitted.
@ecs.on("asteroid_destroyed")
def on_asteroid_destroyed(event):
    game = ecs.get(GAME, "Game")
    if game["over"]:
        return
    if event["by"] == "bullet":
        # Lua's integer `size` arrives as a Python int: a dict key as-is.
        game["score"] += POINTS.get(event["size"], 10)
    # physics.lua spawned the pieces in the same frame it destroyed this
    # asteroid, so if none is left now, the wave is cleared. (Checking in
    # the director instead would be a frame early: the points for the last
    # hit arrive with this event, in the frame after the hit.)
    if ecs.count(["Asteroid"]) == 0 and game["next_wave_in"] > WAVE_PAUSE:
        print(f"wave {game['wave']} cleared: score {game['score']}")
        game["next_wave_in"] = WAVE_PAUSE
    ecs.set(GAME, "Game", game)


@ecs.on("ship_destroyed")
def on_ship_destroyed(event):
    game = ecs.get(GAME, "Game")
    if game["over"]:
        return
    game["lives"] -= 1
    if game["lives"] > 0:
        game["respawn_in"] = RESPAWN_AFTER
        print(f"ship lost: {game['lives']} {'life' if game['lives'] == 1 else 'lives'} left, "
              f"score {game['score']}, wave {game['wave']}")
    else:
        game_over(game)
    ecs.set(GAME, "Game", game)


@ecs.system("director")
def director(dt):
    """Once a frame: timers, the next wave, and the scoreboard. It reads
    the Game component fresh every frame, so whatever the Inspector changed
    between two frames (lives, score, restart) counts at once."""
    global shown
    game = ecs.get(GAME, "Game")
    if game["restart"]:
        new_game(game)
    elif not game["over"]:
        if game["respawn_in"] > 0:
            game["respawn_in"] = max(0.0, game["respawn_in"] - dt)
            if game["respawn_in"] == 0:
                spawn_ship()
        # Waves come on a timer, so a slow pilot gets more and more
        # asteroids at once: that pressure is what ends a game.
        # A cleared wave cuts the wait to WAVE_PAUSE (see the handler above).
        game["next_wave_in"] = max(0.0, game["next_wave_in"] - dt)
        if game["next_wave_in"] == 0:
            game["wave"] += 1
            start_wave(game["wave"])
            game["next_wave_in"] = WAVE_EVERY
    ecs.set(GAME, "Game", game)
    if not game["over"]:
        name = f"score {game['score']} · lives {game['lives']} · wave {game['wave']}"
        if name != shown:
            ecs.set(GAME, "Name", name)
            shown = name


def on_reload(persist):
    # This version's coroutines start empty: if the old version was counting
    # down to a new game, count again.
    game = ecs.get(GAME, "Game")
    if game["over"] and not game["restart"]:
        ecs.start("countdown", countdown, game["games"])
