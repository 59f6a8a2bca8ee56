/**
 * Asserts an answer's status and body in one go: a wrong status is shown with the body that
 * explains it (the errcode and message), not on its own.
 */
export function expectAnswer(
  res: { status: number; body: unknown },
  status: number,
  body: unknown,
): void {
  expect({ status: res.status, body: res.body }).toEqual({ status, body });
}
