// The folder `vite build` writes the UI to; the server sends its files.
module.exports = { webRoot: require('node:path').join(__dirname, 'dist') };
