// Atomic sections and sleeping locks (rules.md §2 "Atomic context"). Atomic
// sections make a blocking allocation a bug (gfp/sleep-in-atomic); sleeping
// locks are tracked as candidate anchors for a NOFS scope.

export type SectionKind =
  | 'spinlock'
  | 'raw_spinlock'
  | 'rwlock'
  | 'bit_spinlock'
  | 'rcu'
  | 'preempt'
  | 'irq'
  | 'bh'
  | 'local_lock'
  | 'mutex'
  | 'rwsem'
  | 'semaphore';

export type LockOp =
  /** Always acquires. */
  | 'acquire'
  | 'release'
  /** Acquires when it returns non-zero (spin_trylock, mutex_trylock, down_read_trylock). */
  | 'try'
  /** Acquires when it returns zero (mutex_lock_interruptible, down_killable). */
  | 'acquire-on-zero';

export interface LockOpDef {
  readonly name: string;
  readonly op: LockOp;
  readonly kind: SectionKind;
  /**
   * Index of the lock object argument, which pairs acquire and release
   * (`&inode->i_lock`); absent for per-CPU or per-task sections (rcu, preempt,
   * irq, bh) that pair by kind and nest by count.
   */
  readonly lockArg?: number;
}

export function isAtomicKind(kind: SectionKind): boolean {
  return kind !== 'mutex' && kind !== 'rwsem' && kind !== 'semaphore';
}

const ops: LockOpDef[] = [];
function family(kind: SectionKind, lockArg: number | undefined, acquire: string[], release: string[], tryNames: string[] = [], onZero: string[] = []): void {
  for (const name of acquire) ops.push({ name, op: 'acquire', kind, lockArg });
  for (const name of release) ops.push({ name, op: 'release', kind, lockArg });
  for (const name of tryNames) ops.push({ name, op: 'try', kind, lockArg });
  for (const name of onZero) ops.push({ name, op: 'acquire-on-zero', kind, lockArg });
}

// include/linux/spinlock.h, rwlock.h, bit_spinlock.h, rcupdate.h, preempt.h,
// irqflags.h, bottom_half.h, local_lock.h, mutex.h, rwsem.h, semaphore.h.
family('spinlock', 0,
  ['spin_lock', 'spin_lock_bh', 'spin_lock_irq', 'spin_lock_irqsave', 'spin_lock_nested', 'spin_lock_irqsave_nested', 'spin_lock_nest_lock'],
  ['spin_unlock', 'spin_unlock_bh', 'spin_unlock_irq', 'spin_unlock_irqrestore'],
  ['spin_trylock', 'spin_trylock_bh', 'spin_trylock_irq', 'spin_trylock_irqsave']);
family('raw_spinlock', 0,
  ['raw_spin_lock', 'raw_spin_lock_bh', 'raw_spin_lock_irq', 'raw_spin_lock_irqsave', 'raw_spin_lock_nested', 'raw_spin_lock_irqsave_nested'],
  ['raw_spin_unlock', 'raw_spin_unlock_bh', 'raw_spin_unlock_irq', 'raw_spin_unlock_irqrestore'],
  ['raw_spin_trylock', 'raw_spin_trylock_irqsave']);
family('rwlock', 0,
  ['read_lock', 'read_lock_bh', 'read_lock_irq', 'read_lock_irqsave', 'write_lock', 'write_lock_bh', 'write_lock_irq', 'write_lock_irqsave'],
  ['read_unlock', 'read_unlock_bh', 'read_unlock_irq', 'read_unlock_irqrestore', 'write_unlock', 'write_unlock_bh', 'write_unlock_irq', 'write_unlock_irqrestore'],
  ['read_trylock', 'write_trylock']);
family('bit_spinlock', 1, ['bit_spin_lock'], ['bit_spin_unlock', '__bit_spin_unlock'], ['bit_spin_trylock']);
family('rcu', undefined, ['rcu_read_lock', 'rcu_read_lock_bh', 'rcu_read_lock_sched', 'rcu_read_lock_sched_notrace'], ['rcu_read_unlock', 'rcu_read_unlock_bh', 'rcu_read_unlock_sched', 'rcu_read_unlock_sched_notrace']);
family('preempt', undefined, ['preempt_disable', 'preempt_disable_notrace', 'preempt_disable_nested', 'get_cpu'], ['preempt_enable', 'preempt_enable_no_resched', 'sched_preempt_enable_no_resched', 'preempt_enable_no_resched_notrace', 'preempt_enable_notrace', 'preempt_enable_nested', 'put_cpu']);
family('irq', undefined, ['local_irq_disable', 'local_irq_save'], ['local_irq_enable', 'local_irq_restore']);
family('bh', undefined, ['local_bh_disable'], ['local_bh_enable']);
family('local_lock', 0, ['local_lock', 'local_lock_irq', 'local_lock_irqsave'], ['local_unlock', 'local_unlock_irq', 'local_unlock_irqrestore']);
family('mutex', 0,
  ['mutex_lock', 'mutex_lock_nested', 'mutex_lock_io'],
  ['mutex_unlock'],
  ['mutex_trylock'],
  ['mutex_lock_interruptible', 'mutex_lock_killable', 'mutex_lock_interruptible_nested', 'mutex_lock_killable_nested']);
family('rwsem', 0,
  ['down_read', 'down_write', 'down_read_nested', 'down_write_nested', 'down_read_non_owner'],
  ['up_read', 'up_write', 'up_read_non_owner'],
  ['down_read_trylock', 'down_write_trylock'],
  ['down_read_interruptible', 'down_read_killable', 'down_write_killable']);
// down_trylock() returns 0 on success, the reverse of the other trylocks.
family('semaphore', 0, ['down'], ['up'], [], ['down_interruptible', 'down_killable', 'down_trylock']);

export const LOCK_OPS: readonly LockOpDef[] = ops;

const LOCK_BY_NAME = new Map(LOCK_OPS.map((o) => [o.name, o]));

export function lockOp(name: string): LockOpDef | undefined {
  return LOCK_BY_NAME.get(name);
}

/**
 * Lock classes of the cleanup.h guards: `guard(spinlock_irqsave)(&l)` and
 * `scoped_guard(mutex, &m) { ... }` (include/linux/cleanup.h and the
 * DEFINE_GUARD/DEFINE_LOCK_GUARD users in spinlock.h, mutex.h, rcupdate.h, ...).
 */
export const GUARD_CLASSES: Readonly<Record<string, SectionKind>> = {
  spinlock: 'spinlock', spinlock_irq: 'spinlock', spinlock_irqsave: 'spinlock', spinlock_bh: 'spinlock',
  spinlock_nested: 'spinlock', spinlock_try: 'spinlock', spinlock_irqsave_try: 'spinlock',
  raw_spinlock: 'raw_spinlock', raw_spinlock_irq: 'raw_spinlock', raw_spinlock_irqsave: 'raw_spinlock', raw_spinlock_nested: 'raw_spinlock',
  read_lock: 'rwlock', read_lock_irq: 'rwlock', read_lock_irqsave: 'rwlock', write_lock: 'rwlock', write_lock_irq: 'rwlock', write_lock_irqsave: 'rwlock',
  rcu: 'rcu', preempt: 'preempt', preempt_notrace: 'preempt', irq: 'irq', irqsave: 'irq',
  local_lock: 'local_lock', local_lock_irq: 'local_lock', local_lock_irqsave: 'local_lock',
  mutex: 'mutex', mutex_intr: 'mutex', mutex_try: 'mutex', rwsem_read: 'rwsem', rwsem_write: 'rwsem', rwsem_read_try: 'rwsem', rwsem_write_try: 'rwsem',
};
