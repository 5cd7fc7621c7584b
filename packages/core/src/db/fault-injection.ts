import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * DynamoDB Local never raises transaction conflicts or throttling, so tests
 * switch this AWS SDK middleware on to raise them, shaped as the real service
 * raises them. Nothing in the service installs it.
 */
export type Fault = 'TransactionConflict' | 'Throttling' | 'Timeout';

interface Plan {
  fault: Fault;
  /** SDK command name, e.g. TransactWriteItemsCommand; any command when absent. */
  command?: string;
  remaining: number;
}

function faultError(fault: Fault, input: any): Error {
  switch (fault) {
    case 'TransactionConflict':
      return Object.assign(new Error('Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]'), {
        name: 'TransactionCanceledException',
        CancellationReasons: (input?.TransactItems ?? [{}]).map(() => ({ Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' })),
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    case 'Throttling':
      return Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded.'), {
        name: 'ProvisionedThroughputExceededException',
        $fault: 'client',
        $retryable: { throttling: true },
        $metadata: { httpStatusCode: 400 },
      });
    case 'Timeout':
      return Object.assign(new Error('Connection timed out'), { name: 'TimeoutError', code: 'ETIMEDOUT', $metadata: {} });
  }
}

export function installFaultInjection(client: DynamoDBDocumentClient) {
  const plans: Plan[] = [];
  const seen: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName ?? '';
      seen.push(command);
      const plan = plans.find((p) => p.remaining > 0 && (!p.command || p.command === command));
      if (plan) {
        plan.remaining--;
        throw faultError(plan.fault, args.input);
      }
      return next(args);
    },
    { step: 'initialize', name: 'testFaultInjection', override: true },
  );
  return {
    /** The next `times` matching requests fail with `fault`. */
    inject(fault: Fault, times: number, command?: string) {
      plans.push({ fault, times, remaining: times, command } as Plan);
    },
    clear() {
      plans.length = 0;
      seen.length = 0;
    },
    /** Commands sent since the last clear, in order. */
    seen,
  };
}
