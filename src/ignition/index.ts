export { dataUrl, decodeDataUrl, decodeDataUrlBytes } from './data-url';
export type { DataUrlOptions } from './data-url';
export { IGNITION_VERSION, ignitionConfig, rootOwnedFile } from './model';
export type {
  IgnitionConfig,
  IgnitionFile,
  IgnitionFileContents,
  IgnitionMetadata,
  IgnitionNodeOwner,
  IgnitionStorage,
  IgnitionSystemd,
  IgnitionUnit,
} from './model';
