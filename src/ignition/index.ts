export { dataUrl, decodeDataUrl, IGNITION_VERSION, ignitionConfig, rootOwnedFile } from './model';
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
