// The editor set-ups in editors/: the VS Code extension, loaded with a
// stand-in for the `vscode` module, says how to start the adapter and
// writes the project's typings. Run by tests/dap.rs:
//   ECSCOPE_BIN=... ECSCOPE_PROJECT=DIR node editors.js
'use strict';

const assert = require('assert');
const fs = require('fs');
const path = require('path');
const Module = require('module');

const BIN = process.env.ECSCOPE_BIN;
const PROJECT = process.env.ECSCOPE_PROJECT;
const EXTENSION = path.join(__dirname, '..', '..', 'editors', 'vscode');

const registered = {};
const vscode = {
  workspace: {
    getConfiguration: (section) => ({ get: (key) => (section === 'ecscope' && key === 'path' ? BIN : undefined) }),
    workspaceFolders: [],
  },
  window: { createOutputChannel: () => ({ appendLine(line) { console.log(line); }, dispose() {} }) },
  debug: {
    registerDebugAdapterDescriptorFactory: (type, factory) => { registered.factory = [type, factory]; return { dispose() {} }; },
    registerDebugConfigurationProvider: (type, provider) => { registered.provider = [type, provider]; return { dispose() {} }; },
  },
  DebugAdapterExecutable: class { constructor(command, args) { this.command = command; this.args = args; } },
  DebugAdapterServer: class { constructor(port, host) { this.port = port; this.host = host; } },
};
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? vscode : load.call(this, request, ...rest);
};

(async () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(EXTENSION, 'package.json'), 'utf8'));
  const debuggerEntry = manifest.contributes.debuggers[0];
  assert.strictEqual(debuggerEntry.type, 'ecscope');
  assert.deepStrictEqual(debuggerEntry.configurationAttributes.launch.required, ['project']);
  assert.ok(fs.existsSync(path.join(EXTENSION, manifest.main)));

  const extension = require(EXTENSION);
  extension.activate({ subscriptions: [] });
  const [type, factory] = registered.factory;
  assert.strictEqual(type, 'ecscope');
  const launch = factory.createDebugAdapterDescriptor({ configuration: { request: 'launch' } });
  assert.strictEqual(launch.command, BIN);
  assert.deepStrictEqual(launch.args, ['dap']);
  const attach = factory.createDebugAdapterDescriptor({ configuration: { request: 'attach', port: 4800 } });
  assert.deepStrictEqual([attach.port, attach.host], [4800, '127.0.0.1']);

  // F5 with no launch.json runs the open folder, and its typings are written.
  const [, provider] = registered.provider;
  const config = await provider.resolveDebugConfiguration({ uri: { fsPath: PROJECT } }, {});
  assert.deepStrictEqual(
    [config.type, config.request, config.project, config.realtime],
    ['ecscope', 'launch', PROJECT, true],
  );
  const lua = fs.readFileSync(path.join(PROJECT, '.ecscope', 'types', 'ecs.lua'), 'utf8');
  assert.match(lua, /---@class Guard/);
  const pyi = fs.readFileSync(path.join(PROJECT, '.ecscope', 'types', 'ecs.pyi'), 'utf8');
  assert.match(pyi, /class Intruder\(Component\)/);
  console.log('ok vscode_extension');
})().catch((e) => {
  console.log(`FAILED vscode_extension: ${e.stack || e}`);
  process.exit(1);
});
