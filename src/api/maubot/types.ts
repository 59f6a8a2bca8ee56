import type { components, operations } from '../../../generated/maubot';

export type Schemas = components['schemas'];

/** The JSON body of an operation's response with the given status. */
export type ResponseBody<
  Op extends keyof operations,
  Status extends keyof operations[Op]['responses'],
> = operations[Op]['responses'][Status] extends { content: { 'application/json': infer B } }
  ? B
  : never;
