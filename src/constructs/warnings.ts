import { IConstruct } from 'constructs';

/*
 * cdk8s has no Annotations API (aws-cdk's Annotations.of(scope).addWarning). A warning is
 * recorded as construct metadata of this type, which tools and tests can read, and printed
 * on stderr when the app is first validated during synthesis. cdk8s validates the whole app
 * once more for every chart it synthesizes, so each warning is printed only the first time.
 */

/** Construct metadata type of a synthesis warning. */
export const WARNING_METADATA_TYPE = 'cdk8s-kmm-day1:warning';

/** Records a warning on `scope`, printed on stderr at synthesis. */
export function addWarning(scope: IConstruct, message: string): void {
  scope.node.addMetadata(WARNING_METADATA_TYPE, message);
  let printed = false;
  scope.node.addValidation({
    validate: () => {
      if (!printed) {
        printed = true;
        process.stderr.write(`[WARNING] ${scope.node.path}: ${message}\n`);
      }
      return [];
    },
  });
}

/** The warnings recorded on `scope` (not its children), in the order they were added. */
export function warningsOf(scope: IConstruct): string[] {
  return scope.node.metadata.filter((entry) => entry.type === WARNING_METADATA_TYPE).map((entry) => String(entry.data));
}
