/** @imvault/im-sim: a local simulator of Tencent Cloud IM's REST API (get_history, get_cos_sig). */
export { CODES } from "./codes.ts";
export {
  type ActiveFault,
  API_FAULTS,
  type ApiFaultKind,
  type Command,
  DOWNLOAD_FAULTS,
  type DownloadFaultKind,
  type FaultControl,
  type FaultKind,
  type FaultMatch,
  type FaultProbabilities,
  type FaultSpec,
  type FaultTuning,
} from "./faults.ts";
export type { FileFigures, HourSpec, HourVolume } from "./generator.ts";
export { COS_ORIGIN } from "./media.ts";
export {
  type HourKeyText,
  type SimulatorOptions,
  TEST_ADMIN,
  TEST_SDKAPPID,
  TEST_SECRET_KEY,
  type VolumeSetting,
} from "./options.ts";
export type { SeenDownload, SeenRequest } from "./records.ts";
export { type SimMediaObject, type Simulator, startSimulator } from "./server.ts";
