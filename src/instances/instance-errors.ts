/** What can go wrong with instances, independent of the API that reports it. */
export class InstanceNotFoundError extends Error {
  override name = 'InstanceNotFoundError';
}

export class InstanceExistsError extends Error {
  override name = 'InstanceExistsError';
}

export class PluginTypeRequiredError extends Error {
  override name = 'PluginTypeRequiredError';
}

export class PrimaryUserRequiredError extends Error {
  override name = 'PrimaryUserRequiredError';
}

export class PrimaryUserNotFoundError extends Error {
  override name = 'PrimaryUserNotFoundError';
}

export class PluginTypeNotFoundError extends Error {
  override name = 'PluginTypeNotFoundError';
}
