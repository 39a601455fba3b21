import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { Task_Status, TaskSchema, type Task } from '../../c1z/gen/c1/connectorapi/baton/v1/baton_pb.js';
import { newKsuid } from '../../c1z/ksuid.js';
import type { FakeC1TaskQueue, QueuedTask, TaskState, TaskTypeCase } from './types.js';

type TaskTypeInit = MessageInitShape<typeof TaskSchema>['taskType'];

/** ConductorOne's side of the task list: queued, then leased to one poller, then finished. */
export class TaskQueue implements FakeC1TaskQueue {
  private readonly pending: QueuedTask[] = [];
  private readonly leased = new Map<string, Task>();
  private readonly finished = new Set<string>();

  constructor(private readonly onChange: () => void = () => {}) {}

  raw(taskType: TaskTypeInit): QueuedTask {
    const id = newKsuid();
    const task = create(TaskSchema, { id, status: Task_Status.PENDING, taskType });
    const queued = { id, task };
    this.pending.push(queued);
    this.onChange();
    return queued;
  }

  syncFull(options: Parameters<FakeC1TaskQueue['syncFull']>[0] = {}): QueuedTask {
    return this.raw({ case: 'syncFull', value: options });
  }

  grant(spec: Parameters<FakeC1TaskQueue['grant']>[0]): QueuedTask {
    return this.raw({ case: 'grant', value: spec });
  }

  revoke(spec: Parameters<FakeC1TaskQueue['revoke']>[0]): QueuedTask {
    return this.raw({ case: 'revoke', value: spec });
  }

  createAccount(spec: Parameters<FakeC1TaskQueue['createAccount']>[0]): QueuedTask {
    return this.raw({ case: 'createAccount', value: spec });
  }

  hello(): QueuedTask {
    return this.raw({ case: 'hello', value: {} });
  }

  unsupported(kind: Parameters<FakeC1TaskQueue['unsupported']>[0] = 'eventFeed'): QueuedTask {
    return this.raw({ case: kind, value: {} } as TaskTypeInit);
  }

  queued(): QueuedTask[] {
    return [...this.pending];
  }

  state(taskId: string): TaskState {
    if (this.finished.has(taskId)) return 'finished';
    if (this.leased.has(taskId)) return 'leased';
    if (this.pending.some((t) => t.id === taskId)) return 'queued';
    return 'unknown';
  }

  /** Hands out the oldest queued task, marking it running. */
  lease(): Task | undefined {
    const next = this.pending.shift();
    if (!next) return undefined;
    next.task.status = Task_Status.RUNNING;
    this.leased.set(next.id, next.task);
    return next.task;
  }

  /** Up to `max` tasks not among `known` (GetTasks). */
  leaseMany(max: number, known: string[]): Task[] {
    const out: Task[] = [];
    while (out.length < max) {
      const t = this.lease();
      if (!t) break;
      if (known.includes(t.id)) continue;
      out.push(t);
    }
    return out;
  }

  isLeased(taskId: string): boolean {
    return this.leased.has(taskId);
  }

  /** Records the end of a task; a retryable failure is queued again when `requeue` is set. */
  finish(taskId: string, retryableFailure: boolean, requeue: boolean): void {
    const task = this.leased.get(taskId);
    this.leased.delete(taskId);
    if (task && retryableFailure && requeue) {
      task.status = Task_Status.PENDING;
      this.pending.push({ id: taskId, task });
    } else {
      this.finished.add(taskId);
    }
    this.onChange();
  }

  /** Task case names, for messages. */
  static caseOf(task: Task): TaskTypeCase | undefined {
    return task.taskType.case;
  }
}
