/** The JSON body of an operation's response with a given status, from generated `operations`. */
export type JsonResponseBody<
  Ops,
  Op extends keyof Ops,
  Status extends PropertyKey,
> = Ops[Op] extends { responses: infer R }
  ? Status extends keyof R
    ? R[Status] extends { content: { 'application/json': infer B } }
      ? B
      : never
    : never
  : never;
