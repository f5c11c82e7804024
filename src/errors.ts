/*
 * The error type of this library for TypeScript and JavaScript: `cdk8s-kmm-day1/errors`.
 * Kept off the package root because jsii cannot represent subclasses of `Error`; other
 * languages read the same list from `Day1MachineConfigProducer.validate`, or the message.
 */
export { Day1ValidationError } from './validation/error';
export type { ValidationProblem } from './validation/error';
