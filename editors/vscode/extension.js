// The ECScope debugger in VS Code: `launch` runs `ecscope dap` (the debug
// adapter on standard input and output), `attach` connects to a running
// `ecscope run --dap` or to the window's Debug › Listen for an editor….
// It also writes the project's typings (`ecscope types`) so that the Lua
// and Python language servers complete `ecs.` and the project's components.
'use strict';

const vscode = require('vscode');
const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

function settings() {
  const config = vscode.workspace.getConfiguration('ecscope');
  return { program: config.get('path') || 'ecscope', writeTypes: config.get('writeTypes') !== false };
}

/// `ecscope types DIR`, reported in the output channel when it fails.
function writeTypes(folder, channel) {
  if (!settings().writeTypes || !fs.existsSync(path.join(folder, 'ecscope.toml'))) {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    childProcess.execFile(settings().program, ['types', folder], (error, stdout, stderr) => {
      if (error && channel) {
        channel.appendLine(`ecscope types ${folder}: ${stderr || error.message}`);
      }
      resolve(!error);
    });
  });
}

const factory = {
  createDebugAdapterDescriptor(session) {
    const config = session.configuration;
    if (config.request === 'attach') {
      return new vscode.DebugAdapterServer(config.port || 4711, config.host || '127.0.0.1');
    }
    return new vscode.DebugAdapterExecutable(settings().program, ['dap']);
  },
};

function provider(channel) {
  return {
    async resolveDebugConfiguration(folder, config) {
      // F5 with no launch.json: run the open folder.
      if (!config.type && !config.request && !config.name) {
        if (!folder) {
          return undefined;
        }
        config = {
          type: 'ecscope', request: 'launch', name: 'ECScope: run the project',
          project: folder.uri.fsPath, realtime: true,
        };
      }
      if (config.request === 'launch') {
        if (!config.project && folder) {
          config.project = folder.uri.fsPath;
        }
        if (config.project) {
          await writeTypes(config.project, channel);
        }
      }
      return config;
    },
  };
}

function activate(context) {
  const channel = vscode.window.createOutputChannel('ECScope');
  context.subscriptions.push(
    channel,
    vscode.debug.registerDebugAdapterDescriptorFactory('ecscope', factory),
    vscode.debug.registerDebugConfigurationProvider('ecscope', provider(channel)),
  );
  for (const folder of vscode.workspace.workspaceFolders || []) {
    writeTypes(folder.uri.fsPath, channel);
  }
}

function deactivate() {}

module.exports = { activate, deactivate, factory, provider, writeTypes };
