import type { components, operations } from '../../../generated/maubot';
import type { JsonResponseBody } from '../../http/openapi-types';

export type Schemas = components['schemas'];

/** The JSON body of an operation's response with the given status. */
export type ResponseBody<
  Op extends keyof operations,
  Status extends keyof operations[Op]['responses'],
> = JsonResponseBody<operations, Op, Status>;
