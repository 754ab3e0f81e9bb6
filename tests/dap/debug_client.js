// Drives `ecscope dap` with @vscode/debugadapter-testsupport's DebugClient,
// the client VS Code's own debug adapters are tested with. Run by
// tests/dap.rs, which passes the binary and copies of the samples:
//   ECSCOPE_BIN=... ECSCOPE_DAP_PROJECTS='{"hello_lua": DIR, ...}' node debug_client.js
'use strict';

const assert = require('assert');
const path = require('path');
const { DebugClient } = require('@vscode/debugadapter-testsupport');

const BIN = process.env.ECSCOPE_BIN;
const PROJECTS = JSON.parse(process.env.ECSCOPE_DAP_PROJECTS || '{}');
const ONLY = process.env.ECSCOPE_DAP_ONLY;

function file(project, name) {
  return path.join(PROJECTS[project], 'scripts', name);
}

async function client() {
  const dc = new DebugClient(BIN, 'dap', 'ecscope', {}, true);
  // The machine running the tests may be slow and busy.
  dc.defaultTimeout = 30000;
  await dc.start();
  return dc;
}

/// initialize, launch, breakpoints, exception filters, configurationDone;
/// returns the first `stopped` event when `stops` is set.
async function begin(dc, args, breakpoints, filters, stops) {
  const initialized = dc.waitForEvent('initialized');
  const init = await dc.initializeRequest({
    adapterID: 'ecscope', linesStartAt1: true, columnsStartAt1: true, pathFormat: 'path',
  });
  for (const capability of ['supportsConfigurationDoneRequest', 'supportsConditionalBreakpoints',
    'supportsHitConditionalBreakpoints', 'supportsLogPoints', 'supportsEvaluateForHovers',
    'supportsSetVariable', 'supportsTerminateRequest']) {
    assert.strictEqual(init.body[capability], true, capability);
  }
  assert.deepStrictEqual(init.body.exceptionBreakpointFilters.map((f) => f.filter), ['uncaught']);
  await dc.launchRequest(args);
  await initialized;
  for (const [source, list] of Object.entries(breakpoints)) {
    const answer = await dc.setBreakpointsRequest({ source: { path: source }, breakpoints: list });
    assert.strictEqual(answer.body.breakpoints.length, list.length);
    for (const b of answer.body.breakpoints) {
      assert.strictEqual(b.verified, true, JSON.stringify(b));
    }
  }
  await dc.setExceptionBreakpointsRequest({ filters: filters || [] });
  const stopped = stops ? dc.waitForEvent('stopped') : null;
  await dc.configurationDoneRequest();
  return stopped ? await stopped : null;
}

async function top(dc, threadId) {
  const trace = await dc.stackTraceRequest({ threadId });
  return trace.body.stackFrames;
}

async function locals(dc, frameId) {
  const scopes = await dc.scopesRequest({ frameId });
  assert.strictEqual(scopes.body.scopes[0].name, 'Locals');
  const reference = scopes.body.scopes[0].variablesReference;
  const vars = await dc.variablesRequest({ variablesReference: reference });
  return { reference, list: vars.body.variables };
}

function named(list, name) {
  const v = list.find((x) => x.name === name);
  assert.ok(v, `no variable ${name} in ${JSON.stringify(list.map((x) => x.name))}`);
  return v;
}

/// The first `output` event of a category whose text matches.
function output(dc, category, pattern) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${category} output matching ${pattern}`)), dc.defaultTimeout);
    const listener = (event) => {
      if (event.body.category === category && pattern.test(event.body.output)) {
        clearTimeout(timer);
        dc.removeListener('output', listener);
        resolve(event);
      }
    };
    dc.on('output', listener);
  });
}

/// Sends a step and waits for the stop it makes.
async function step(dc, kind, threadId) {
  const stopped = dc.waitForEvent('stopped');
  await dc[`${kind}Request`]({ threadId });
  return stopped;
}

const tests = {
  // A Lua system: a conditional breakpoint, locals that expand, evaluate
  // and setVariable, steps, and the run's end.
  async lua_system() {
    const dc = await client();
    const hello = file('hello_lua', 'hello.lua');
    const stop = await begin(dc, { project: PROJECTS.hello_lua, frames: 120 },
      { [hello]: [{ line: 36, condition: 'id == 2' }] }, [], true);
    assert.strictEqual(stop.body.reason, 'breakpoint');
    assert.strictEqual(stop.body.threadId, 1);
    const frames = await top(dc, 1);
    assert.strictEqual(frames[0].source.path, hello);
    assert.strictEqual(frames[0].line, 36);
    assert.strictEqual(frames[0].name, 'move');
    const { reference, list } = await locals(dc, frames[0].id);
    assert.strictEqual(named(list, 'id').value, '2');
    const pos = named(list, 'pos');
    assert.ok(pos.variablesReference > 0, 'pos expands');
    const fields = await dc.variablesRequest({ variablesReference: pos.variablesReference });
    assert.ok(fields.body.variables.some((v) => v.name === 'x'), JSON.stringify(fields.body));
    const sum = await dc.evaluateRequest({ expression: 'id * 10 + 1', frameId: frames[0].id, context: 'watch' });
    assert.strictEqual(sum.body.result, '21');
    const hover = await dc.evaluateRequest({ expression: 'vel', frameId: frames[0].id, context: 'hover' });
    assert.ok(hover.body.variablesReference > 0, 'a table evaluated in a hover expands');
    const set = await dc.setVariableRequest({ variablesReference: reference, name: 'dt', value: '0.5' });
    assert.strictEqual(set.body.value, '0.5');
    const dt = await dc.evaluateRequest({ expression: 'dt', frameId: frames[0].id, context: 'repl' });
    assert.strictEqual(dt.body.result, '0.5');
    await dc.setBreakpointsRequest({ source: { path: hello }, breakpoints: [] });
    let next = await step(dc, 'next', 1);
    assert.strictEqual(next.body.reason, 'step');
    assert.strictEqual((await top(dc, 1))[0].line, 37);
    // Off the end of the system: on to the next line any script runs.
    await step(dc, 'next', 1);
    next = await step(dc, 'next', 1);
    assert.strictEqual(next.body.reason, 'step');
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: 1 });
    await terminated;
    await dc.stop();
  },

  // One session, both languages: a Lua coroutine, then a Python generator
  // coroutine, each its own thread, with thread events.
  async coroutines_in_both_languages() {
    const dc = await client();
    const guards = file('ai_coroutines', 'guards.lua');
    const intruder = file('ai_coroutines', 'intruder.py');
    const started = dc.waitForEvent('thread');
    const stop = await begin(dc, { project: PROJECTS.ai_coroutines, frames: 4000 },
      { [guards]: [{ line: 37 }] }, ['uncaught'], true);
    const thread = await started;
    assert.strictEqual(thread.body.reason, 'started');
    assert.strictEqual(stop.body.reason, 'breakpoint');
    let lua = stop.body.threadId;
    assert.notStrictEqual(lua, 1, 'a coroutine stops on a thread of its own');
    const threads = (await dc.threadsRequest()).body.threads;
    assert.strictEqual(threads[0].name, 'main');
    assert.strictEqual(threads.find((t) => t.id === lua).name, 'guard-1');
    let frames = await top(dc, lua);
    assert.strictEqual(frames[0].source.path, guards);
    assert.strictEqual(frames[0].name, 'patrol');
    const { list } = await locals(dc, frames[0].id);
    assert.strictEqual(named(list, 'id').value, '1');
    // Into a call and out of it again.
    await dc.setBreakpointsRequest({ source: { path: guards }, breakpoints: [{ line: 41 }] });
    const at41 = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: lua });
    const call = await at41;
    assert.strictEqual((await top(dc, call.body.threadId))[0].line, 41);
    await step(dc, 'stepIn', call.body.threadId);
    frames = await top(dc, call.body.threadId);
    assert.deepStrictEqual(frames.map((f) => f.name), ['step_towards', 'patrol']);
    assert.strictEqual(frames[0].line, 14);
    await step(dc, 'stepOut', call.body.threadId);
    frames = await top(dc, call.body.threadId);
    assert.strictEqual(frames[0].name, 'patrol');
    assert.ok([41, 42].includes(frames[0].line), `back in patrol at ${frames[0].line}`);
    await dc.setBreakpointsRequest({ source: { path: guards }, breakpoints: [] });
    lua = call.body.threadId;
    // Steps follow the coroutine, across its yields (later frames), on its
    // own thread.
    const frameNow = async () => Number((await dc.evaluateRequest({
      expression: 'ecs.frame()', frameId: (await top(dc, lua))[0].id, context: 'watch',
    })).body.result);
    const firstFrame = await frameNow();
    const lines = [];
    for (let i = 0; i < 12; i++) {
      const s = await step(dc, 'next', lua);
      assert.strictEqual(s.body.threadId, lua, 'the step stays in the coroutine');
      const here = (await top(dc, lua))[0];
      assert.strictEqual(here.source.path, guards);
      lines.push(here.line);
    }
    assert.ok(await frameNow() > firstFrame, `the steps went on in a later resume: lines ${lines}`);
    // Now the Python generator.
    await dc.setBreakpointsRequest({ source: { path: intruder }, breakpoints: [{ line: 26 }] });
    const py = dc.waitForEvent('stopped');
    await dc.continueRequest({ threadId: lua });
    const pyStop = await py;
    assert.strictEqual(pyStop.body.reason, 'breakpoint');
    const pyThread = pyStop.body.threadId;
    assert.strictEqual((await dc.threadsRequest()).body.threads.find((t) => t.id === pyThread).name, 'intruder');
    frames = await top(dc, pyThread);
    assert.deepStrictEqual(frames.map((f) => f.name), ['walk_to', 'sneak']);
    assert.deepStrictEqual(frames.map((f) => f.source.path), [intruder, intruder]);
    assert.strictEqual(frames[1].line, 38);
    const caller = await locals(dc, frames[1].id);
    assert.strictEqual(named(caller.list, 'spot').type, 'int');
    const spot = await dc.evaluateRequest({ expression: 'HIDING_SPOTS[spot]', frameId: frames[1].id, context: 'watch' });
    assert.match(spot.body.result, /^\(\d+, \d+\)$/);
    await dc.setBreakpointsRequest({ source: { path: intruder }, breakpoints: [] });
    // Out of walk_to, which returns frames later: back in sneak.
    const out = await step(dc, 'stepOut', pyThread);
    assert.strictEqual(out.body.threadId, pyThread);
    frames = await top(dc, pyThread);
    assert.strictEqual(frames[0].name, 'sneak');
    assert.strictEqual(frames[0].line, 40);
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: pyThread });
    await terminated;
    await dc.stop();
  },

  // A Python system: a condition, a log message with a hit count, a live
  // component that expands and whose field is set.
  async python_system() {
    const dc = await client();
    const tank = file('hello_python', 'tank.py');
    const logged = output(dc, 'console', /^fish 1 angle /);
    const stop = await begin(dc, { project: PROJECTS.hello_python, frames: 60 },
      { [tank]: [{ line: 75, condition: 'id == 3' }, { line: 85, logMessage: 'fish {id} angle {rot.angle}', hitCondition: '<= 2' }] },
      [], true);
    assert.strictEqual(stop.body.reason, 'breakpoint');
    const frames = await top(dc, 1);
    assert.strictEqual(frames[0].name, 'move');
    assert.strictEqual(frames[0].line, 75);
    const { list } = await locals(dc, frames[0].id);
    assert.strictEqual(named(list, 'id').value, '3');
    const pos = named(list, 'pos');
    assert.ok(pos.variablesReference > 0, 'a live component expands');
    const fields = await dc.variablesRequest({ variablesReference: pos.variablesReference });
    assert.deepStrictEqual(fields.body.variables.map((v) => v.name).sort(), ['x', 'y']);
    const set = await dc.setVariableRequest({ variablesReference: pos.variablesReference, name: 'x', value: '42.5' });
    assert.strictEqual(set.body.value, '42.5');
    const x = await dc.evaluateRequest({ expression: 'ecs.get(id, "Position")["x"]', frameId: frames[0].id, context: 'repl' });
    assert.strictEqual(x.body.result, '42.5', 'the world has the value set');
    await dc.setBreakpointsRequest({ source: { path: tank }, breakpoints: [{ line: 85, logMessage: 'fish {id} angle {rot.angle}', hitCondition: '<= 2' }] });
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: 1 });
    const line = await logged;
    assert.strictEqual(line.body.source.path, tank);
    assert.strictEqual(line.body.line, 85);
    await terminated;
    await dc.stop();
  },

  // An uncaught error stops where it is raised, in both languages.
  async exceptions() {
    const dc = await client();
    const stop = await begin(dc, { project: PROJECTS.errors, frames: 60 }, {}, ['uncaught'], true);
    assert.strictEqual(stop.body.reason, 'exception');
    assert.match(stop.body.text, /lua says no/);
    let frames = await top(dc, 1);
    assert.strictEqual(frames[0].source.path, file('errors', 'fails.lua'));
    assert.strictEqual(frames[0].line, 3);
    const py = dc.waitForEvent('stopped');
    const printed = output(dc, 'stderr', /lua says no/);
    await dc.continueRequest({ threadId: 1 });
    await printed;
    const pyStop = await py;
    assert.strictEqual(pyStop.body.reason, 'exception');
    assert.match(pyStop.body.text, /python says no/);
    frames = await top(dc, 1);
    assert.strictEqual(frames[0].source.path, file('errors', 'fails.py'));
    assert.strictEqual(frames[0].line, 6);
    await dc.setExceptionBreakpointsRequest({ filters: [] });
    const terminated = dc.waitForEvent('terminated');
    await dc.continueRequest({ threadId: 1 });
    await terminated;
    await dc.stop();
  },

  // stopOnEntry, pause while running, and requests that are wrong.
  async entry_pause_and_bad_requests() {
    const dc = await client();
    const entry = await begin(dc, { project: PROJECTS.hello_lua, stopOnEntry: true, realtime: true }, {}, [], true);
    assert.strictEqual(entry.body.reason, 'entry');
    await dc.continueRequest({ threadId: 1 });
    await new Promise((r) => setTimeout(r, 300));
    const paused = await step(dc, 'pause', 1);
    assert.strictEqual(paused.body.reason, 'pause');
    const frames = await top(dc, 1);
    assert.strictEqual(frames[0].source.path, file('hello_lua', 'hello.lua'));
    await assert.rejects(dc.customRequest('noSuchRequest'), /not a request ECScope knows/);
    await assert.rejects(dc.evaluateRequest({ expression: 'id', frameId: 99 }), /no frame 99/);
    await assert.rejects(dc.variablesRequest({ variablesReference: 9999 }), /not valid/);
    await dc.continueRequest({ threadId: 1 });
    await dc.terminateRequest();
    await dc.stop();
  },

  // How long a step takes from the request to its `stopped` event.
  async step_latency() {
    const dc = await client();
    const hello = file('hello_lua', 'hello.lua');
    const stop = await begin(dc, { project: PROJECTS.hello_lua, frames: 100000 },
      { [hello]: [{ line: 36 }] }, [], true);
    await dc.setBreakpointsRequest({ source: { path: hello }, breakpoints: [] });
    const times = [];
    for (let i = 0; i < 200; i++) {
      const started = process.hrtime.bigint();
      const s = await step(dc, 'next', stop.body.threadId);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
      assert.strictEqual(s.body.reason, 'step');
    }
    times.sort((a, b) => a - b);
    const p = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
    console.log(`step latency over ${times.length} steps: p50 ${p(0.5).toFixed(2)} ms, p99 ${p(0.99).toFixed(2)} ms, max ${times[times.length - 1].toFixed(2)} ms`);
    await dc.terminateRequest();
    await dc.stop();
  },
};

(async () => {
  let failed = 0;
  for (const [name, test] of Object.entries(tests)) {
    if (ONLY && !name.includes(ONLY)) continue;
    const started = Date.now();
    try {
      await test();
      console.log(`ok ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed += 1;
      console.log(`FAILED ${name}: ${e && e.stack ? e.stack : e}`);
    }
  }
  process.exit(failed ? 1 : 0);
})();
