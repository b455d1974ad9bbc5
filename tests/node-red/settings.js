// Node-RED settings for the loxcan example-flow test: headless (no editor, no admin API, no HTTP
// nodes), bound to 127.0.0.1, everything in the test's own user directory, log to stdout.
module.exports = {
  uiHost: "127.0.0.1",
  uiPort: Number(process.env.NODE_RED_PORT || 1880),
  httpAdminRoot: false,
  httpNodeRoot: false,
  disableEditor: true,
  userDir: process.env.NODE_RED_USER_DIR,
  flowFile: process.env.NODE_RED_FLOWS,
  flowFilePretty: true,
  credentialSecret: false,
  externalModules: { autoInstall: false, palette: { allowInstall: false } },
  telemetry: { enabled: false },
  diagnostics: { enabled: false },
  runtimeState: { enabled: false },
  logging: { console: { level: "info", metrics: false, audit: false } },
  functionExternalModules: false,
  functionGlobalContext: {},
};
