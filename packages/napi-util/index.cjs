// The one addon loader of Switchboard's native packages, and the header's include path.
// For binding.gyp: "include_dirs": ["<!(node -p \"require('@switchboard/napi-util').include\")"]
'use strict';
const path = require('node:path');
const { createRequire } = require('node:module');
const { fileURLToPath } = require('node:url');

exports.include = path.join(__dirname, 'include');

/**
 * Loads `build/Release/<name>.node` of the package a module belongs to (pass the module's
 * import.meta.url from its src/ or dist/ folder); null when the addon was not built.
 */
exports.loadAddon = function loadAddon(moduleUrl, name) {
  const packageDir = path.join(path.dirname(fileURLToPath(moduleUrl)), '..');
  try {
    return createRequire(moduleUrl)(path.join(packageDir, 'build', 'Release', `${name}.node`));
  } catch {
    return null;
  }
};
