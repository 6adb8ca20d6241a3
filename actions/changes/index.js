// actions/changes: a drop-in for dorny/paths-filter, run by deckhand's binary.
//
// A JavaScript action, not a composite one, because a composite action can only expose the
// outputs its action.yml declares, and paths-filter's outputs are named after the filters
// (`backend`, `backend_count`, ...). This file only gets the binary, maps the inputs to the
// variables its flags read, and runs `deckhand changes` in the working directory; the binary
// decides and writes every output to $GITHUB_OUTPUT itself. Plain CommonJS with Node's own
// modules: nothing to install or bundle.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

// Each input of action.yml that is a flag of `deckhand changes`, and the variable that flag
// reads (crates/deckhand/tests/action_contract.rs checks this table against the binary).
const FLAG_INPUTS = {
  filters: 'DECKHAND_FILTERS',
  'predicate-quantifier': 'DECKHAND_QUANTIFIER',
  negation: 'DECKHAND_NEGATION',
  'list-files': 'DECKHAND_LIST_FILES',
  base: 'DECKHAND_BASE',
  ref: 'DECKHAND_HEAD',
  'initial-fetch-depth': 'DECKHAND_INITIAL_FETCH_DEPTH',
};

// An input as the runner passes it (`INPUT_<NAME>`, hyphens kept), trimmed as
// `core.getInput` does.
function input(name) {
  return (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] || '').trim();
}

function escapeData(text) {
  return String(text).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

class Failure extends Error {}

// An end with this exit code, the reason already printed.
class Exit extends Error {
  constructor(code) {
    super(`exit ${code}`);
    this.code = code;
  }
}

function fail(message) {
  throw new Failure(message);
}

// The binary: the path the shared installer (actions/lib/install-deckhand.sh, as every action
// of deckhand runs it) prints, from `deckhand-path` or `deckhand-image`. When it fails it has
// said why (an ::error annotation): its exit code is the step's.
function deckhandBinary() {
  const script = path.join(__dirname, '..', 'lib', 'install-deckhand.sh');
  const run = spawnSync('bash', [script], {
    env: {
      ...process.env,
      INPUT_DECKHAND_PATH: input('deckhand-path'),
      INPUT_DECKHAND_IMAGE: input('deckhand-image'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (run.error) {
    fail(`cannot run ${script}: ${run.error.message}`);
  }
  if (run.status !== 0) {
    throw new Exit(run.status === null ? 1 : run.status);
  }
  const bin = (run.stdout || '').trim().split('\n').pop();
  if (!bin) {
    fail(`${script} printed no binary path`);
  }
  return bin;
}

function main() {
  const workingDirectory = path.resolve(input('working-directory') || '.');
  if (!fs.existsSync(workingDirectory)) {
    fail(`working-directory \`${input('working-directory')}\` does not exist`);
  }
  const bin = deckhandBinary();
  // The job's own DECKHAND_* variables would set flags the inputs did not: only the inputs do.
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('DECKHAND_')) {
      env[name] = value;
    }
  }
  for (const [name, variable] of Object.entries(FLAG_INPUTS)) {
    const value = input(name);
    if (value !== '') {
      env[variable] = value;
    }
  }
  // The token reaches the binary by name, never on a command line; `token: ''` means git.
  const token = input('token');
  if (token) {
    env.GITHUB_TOKEN = token;
  } else {
    delete env.GITHUB_TOKEN;
  }
  if (process.env.RUNNER_DEBUG === '1') {
    env.DECKHAND_VERBOSE = '1';
  }
  const run = spawnSync(bin, ['changes'], { cwd: workingDirectory, env, stdio: 'inherit' });
  if (run.error) {
    fail(`cannot run deckhand (${bin}): ${run.error.message}`);
  }
  if (run.signal) {
    fail(`deckhand was stopped by ${run.signal}`);
  }
  process.exitCode = run.status;
}

try {
  main();
} catch (e) {
  if (e instanceof Exit) {
    process.exitCode = e.code;
  } else {
    // What `core.setFailed` does: an error annotation and a failed step.
    console.log(`::error::${escapeData(e instanceof Failure ? e.message : e.stack || e)}`);
    process.exitCode = 1;
  }
}
