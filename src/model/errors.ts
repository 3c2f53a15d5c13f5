/** A model that cannot be used: the message says which file or tensor and what was expected. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}
