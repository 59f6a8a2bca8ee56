/** What can go wrong with plugins, independent of the API that reports it. */
export class PluginNotFoundError extends Error {
  override name = 'PluginNotFoundError';
}

export class PluginExistsError extends Error {
  override name = 'PluginExistsError';
}

export class PluginIdMismatchError extends Error {
  override name = 'PluginIdMismatchError';
}

export class PluginInUseError extends Error {
  override name = 'PluginInUseError';
}

/** The stored archive no longer loads; `detail` is the short cause. */
export class PluginReloadError extends Error {
  override name = 'PluginReloadError';
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
  }
}
