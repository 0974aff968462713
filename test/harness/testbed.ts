// Everything a testbed test needs, from one module. Keep this a plain list of re-exports.
export { type Teardown, tempDir } from "./lifecycle.ts";
export { createTestCa, type TestCa, type ServingFiles } from "./test-ca.ts";
export { httpsRequest, type HttpsResponse } from "./https-get.ts";
export {
  startRegistry,
  type Registry,
  type RegistryOptions,
  type RegistryAuth,
} from "./registry.ts";
export { type AccessLogEntry, type ManifestRequest } from "./registry-log.ts";
export {
  startTokenServer,
  type TokenServer,
  type TokenServerSettings,
  type TokenRequest,
  type TokenUser,
  type AccessRules,
} from "./token-server.ts";
export { decodeToken, jwkThumbprint } from "./registry-jwt.ts";
export { createCrane, type Crane, type Manifest, type Pushed, type MediaTypes } from "./crane.ts";
export { tarball, type LayerFiles } from "./tarball.ts";
export { startToxiproxy, type Toxiproxy, type Proxy, type Toxic } from "./toxiproxy.ts";
