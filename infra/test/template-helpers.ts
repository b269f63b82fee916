import type { Template } from 'aws-cdk-lib/assertions';

/** A CloudFormation resource as it appears in a synthesised template. */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/** Resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** Every IAM statement in the template (policies, roles' inline policies, managed policies). */
export function iamStatements(
  template: Template,
): Array<{ owner: string; Action: string[]; Resource: unknown[]; Condition?: unknown }> {
  const statements: Array<{ owner: string; Action: string[]; Resource: unknown[]; Condition?: unknown }> = [];
  const push = (owner: string, document: unknown) => {
    const list = (document as { Statement?: unknown[] } | undefined)?.Statement ?? [];
    for (const raw of list) {
      const statement = raw as { Action?: string | string[]; Resource?: unknown; Condition?: unknown };
      const actions =
        statement.Action === undefined ? [] : Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      const resources =
        statement.Resource === undefined
          ? []
          : Array.isArray(statement.Resource)
            ? statement.Resource
            : [statement.Resource];
      statements.push({
        owner,
        Action: actions,
        Resource: resources,
        ...(statement.Condition ? { Condition: statement.Condition } : {}),
      });
    }
  };
  for (const [id, policy] of Object.entries(resourcesOf(template, 'AWS::IAM::Policy')))
    push(id, policy.Properties?.PolicyDocument);
  for (const [id, policy] of Object.entries(resourcesOf(template, 'AWS::IAM::ManagedPolicy')))
    push(id, policy.Properties?.PolicyDocument);
  for (const [id, role] of Object.entries(resourcesOf(template, 'AWS::IAM::Role'))) {
    for (const policy of (role.Properties?.Policies as Array<{ PolicyDocument: unknown }> | undefined) ?? [])
      push(id, policy.PolicyDocument);
  }
  return statements;
}

/**
 * Renders CloudFormation intrinsics into plausible strings (Ref/GetAtt become URLs), so a Lambda
 * environment can be checked against the handler's own zod schema.
 */
export function renderIntrinsic(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const object = value as Record<string, unknown>;
  if ('Ref' in object) return `https://ref.example/${String(object.Ref)}`;
  if ('Fn::GetAtt' in object) return `https://getatt.example/${(object['Fn::GetAtt'] as string[]).join('.')}/`;
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map(renderIntrinsic).join(separator);
  }
  if ('Fn::Select' in object) return 'selected';
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

/** The rendered environment variables of the Lambda whose logical id starts with `prefix`. */
export function lambdaEnvironment(template: Template, logicalIdPrefix: string): Record<string, string> {
  const match = Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).find(([id]) =>
    id.startsWith(logicalIdPrefix),
  );
  if (!match) throw new Error(`no Lambda ${logicalIdPrefix}`);
  const variables =
    ((match[1].Properties?.Environment as { Variables?: Record<string, unknown> }) ?? {}).Variables ?? {};
  return Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, renderIntrinsic(value)]));
}
