// Calls that may sleep whatever their arguments, for "may block" in function
// summaries and gfp/sleep-in-atomic through calls. Each one calls might_sleep()
// (or __might_resched(), or schedule(), whose schedule_debug() prints
// "BUG: scheduling while atomic", kernel/sched/core.c:5938) on every path, so
// in an atomic section it is the bug CONFIG_DEBUG_ATOMIC_SLEEP reports as
// "sleeping function called from invalid context". Citations are 6.12.
//
// Only calls that sleep unconditionally belong here: fsleep() busy-waits for
// short delays, cancel_work_sync() may run in atomic context for BH work
// (kernel/workqueue.c:4388-4393), and vfree() and copy_*_user() are called from
// atomic context on purpose (in_interrupt(), pagefault_disable()), so they are
// not listed. The sleeping locks come from locks.ts (mutex_lock*,
// down_read/down_write*, down*: kernel/locking/mutex.c:283, rwsem.c:1523,
// semaphore.c:59 call might_sleep()); their trylocks do not sleep.

import { GUARD_CLASSES, isAtomicKind, LOCK_OPS } from './locks';

export interface SleepingGroup {
  readonly names: readonly string[];
  /** Where the kernel says it sleeps. */
  readonly source: string;
}

export const SLEEPING_CALLS: readonly SleepingGroup[] = [
  { names: ['might_sleep'], source: 'include/linux/kernel.h:94-106 (the annotation itself)' },
  { names: ['cond_resched'], source: 'include/linux/sched.h:2093-2095 (__might_resched())' },
  { names: ['msleep', 'msleep_interruptible', 'ssleep', 'usleep_range', 'usleep_range_state'], source: 'kernel/time/timer.c:2768-2813, include/linux/delay.h:66-79 (schedule_timeout*())' },
  {
    names: ['schedule', 'schedule_timeout', 'schedule_timeout_interruptible', 'schedule_timeout_killable', 'schedule_timeout_uninterruptible', 'schedule_timeout_idle', 'io_schedule', 'io_schedule_timeout'],
    source: 'kernel/sched/core.c:5938 (schedule_debug()), kernel/time/timer.c:2578-2659, kernel/sched/core.c:7632-7645',
  },
  {
    names: [
      'wait_for_completion', 'wait_for_completion_io', 'wait_for_completion_interruptible', 'wait_for_completion_killable', 'wait_for_completion_state',
      'wait_for_completion_timeout', 'wait_for_completion_io_timeout', 'wait_for_completion_interruptible_timeout', 'wait_for_completion_killable_timeout',
    ],
    source: 'kernel/sched/completion.c:111 (__wait_for_common())',
  },
  {
    names: [
      'wait_event', 'wait_event_freezable', 'wait_event_timeout', 'wait_event_freezable_timeout', 'wait_event_interruptible', 'wait_event_interruptible_timeout',
      'wait_event_hrtimeout', 'wait_event_interruptible_hrtimeout', 'wait_event_interruptible_exclusive', 'wait_event_killable_exclusive', 'wait_event_freezable_exclusive',
      'wait_event_idle', 'wait_event_idle_exclusive', 'wait_event_idle_timeout', 'wait_event_idle_exclusive_timeout', 'wait_event_killable', 'wait_event_state',
      'wait_event_killable_timeout',
    ],
    source: 'include/linux/wait.h:340-993 (each macro starts with might_sleep())',
  },
  {
    names: ['wait_on_bit', 'wait_on_bit_io', 'wait_on_bit_timeout', 'wait_on_bit_action', 'wait_on_bit_lock', 'wait_on_bit_lock_io', 'wait_on_bit_lock_action'],
    source: 'include/linux/wait_bit.h:70-232',
  },
  { names: ['lock_buffer', 'wait_on_buffer'], source: 'include/linux/buffer_head.h:418-434' },
  { names: ['folio_lock', 'lock_page', 'folio_lock_killable', 'folio_lock_or_retry'], source: 'include/linux/pagemap.h:1154-1212' },
  { names: ['synchronize_rcu', 'synchronize_srcu'], source: 'kernel/rcu/tree.c:4108-4115, kernel/rcu/srcutree.c:1390-1396 (illegal in a read-side section; waits for a grace period)' },
  { names: ['flush_work', 'flush_delayed_work', 'flush_workqueue', 'drain_workqueue', 'destroy_workqueue'], source: 'kernel/workqueue.c:4300 (flush_work()), :3973 (__flush_workqueue() waits for a completion)' },
];

const SLEEPING = new Map<string, string>();
for (const g of SLEEPING_CALLS) for (const n of g.names) SLEEPING.set(n, g.source);
for (const op of LOCK_OPS) {
  if (isAtomicKind(op.kind) || op.op === 'release' || op.op === 'try' || /trylock/.test(op.name)) continue;
  SLEEPING.set(op.name, 'a sleeping lock (kernel/locking/mutex.c, rwsem.c, semaphore.c: might_sleep())');
}

/** Why `name` sleeps whatever its arguments, or undefined when it need not. */
export function sleepingCall(name: string): string | undefined {
  return SLEEPING.get(name);
}

/** Every name sleepingCall() knows (for the lowering pattern). */
export function sleepingCallNames(): string[] {
  return [...SLEEPING.keys()];
}

/** Whether a cleanup guard class takes a sleeping lock: `guard(mutex)`, `scoped_guard(rwsem_read, ...)`; not the `_try` classes. */
export function sleepingGuard(cls: string): boolean {
  const kind = GUARD_CLASSES[cls];
  return kind !== undefined && !isAtomicKind(kind) && !cls.endsWith('_try');
}
