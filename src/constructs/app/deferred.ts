import { IConstruct } from 'constructs';
import { registryOf } from './claims';
import { problemLine, ProblemCollector, ValidationProblem } from '../../validation';

/*
 * Invalid props do not stop the app at the first construct: each construct records its problems
 * as a construct validation (Node.addValidation), and cdk8s's App.synth() runs the validations
 * of every construct before it writes anything, then fails once with all of them ("Validation
 * failed with the following errors:", one line per problem, each after the construct path). The
 * error is cdk8s's own, thrown from its synthesis: no stack excerpt of this library's source.
 *
 * An invalid construct goes on with placeholder values so that the app can be built to the end;
 * the app-wide analyses (conflicts, delivery, hand-over rules) report nothing while any construct
 * is invalid, because what they would say about placeholders is noise. The invalid constructs are
 * kept in the app's registry (registry.ts). Not part of the public API.
 */

/** Construct metadata type of one invalid prop (a ValidationProblem), which tools can read. */
export const PROBLEM_METADATA_TYPE = 'cdk8s-kmm-day1:problem';

/**
 * Defers the problems found in `construct`'s props (if any) to the app's validation.
 *
 * @returns whether there were problems: the construct must then build placeholders only
 */
export function deferProblems(construct: IConstruct, problems: ProblemCollector): boolean {
  if (problems.ok) return false;
  const found = problems.problems;
  const registry = registryOf(construct);
  registry.invalid.add(construct);
  registry.changed();
  for (const problem of found) construct.node.addMetadata(PROBLEM_METADATA_TYPE, problem);
  construct.node.addValidation({ validate: () => found.map((problem) => messageOf(construct, problem)) });
  return true;
}

/** Whether any construct of `scope`'s app has invalid props (its synthesis fails on them). */
export function appHasInvalidProps(scope: IConstruct): boolean {
  return registryOf(scope).hasInvalidProps;
}

/** Whether this construct has invalid props. */
export function hasInvalidProps(construct: IConstruct): boolean {
  return registryOf(construct).invalid.has(construct);
}

/**
 * A name for the placeholders of an invalid construct: unique per construct (from its address),
 * valid as a DNS label, a kernel module name and an image path component.
 */
export function placeholderName(construct: IConstruct): string {
  return `invalid${construct.node.addr.slice(0, 12)}`;
}

/** cdk8s prefixes the construct path itself: the line names it only for a problem of another construct. */
function messageOf(construct: IConstruct, problem: ValidationProblem): string {
  const { path, ...rest } = problem;
  return problemLine(path === undefined || path === construct.node.path ? rest : problem);
}

/**
 * The props problems of every construct of the app `scope` belongs to, in construct tree order
 * (then the order each construct found them): what `app.synth()` fails with, as data.
 */
export function problemsOfApp(scope: IConstruct): ValidationProblem[] {
  return scope.node.root.node.findAll().flatMap((construct) => construct.node.metadata
    .filter((entry) => entry.type === PROBLEM_METADATA_TYPE)
    .map((entry) => entry.data as ValidationProblem));
}
