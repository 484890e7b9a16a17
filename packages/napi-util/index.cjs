// For binding.gyp: "include_dirs": ["<!(node -p \"require('@switchboard/napi-util').include\")"]
module.exports = { include: require('node:path').join(__dirname, 'include') };
