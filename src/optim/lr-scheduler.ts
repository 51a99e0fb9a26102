/**
 * wg.optim.lrScheduler: torch.optim.lr_scheduler's StepLR, CosineAnnealingLR,
 * LinearLR, LambdaLR and SequentialLR with torch's semantics. step() writes
 * each group's lr from the chainable (recursive) form, which reads the lr the
 * group has now, so schedulers compose as in torch; step(epoch) uses the closed
 * form. The optimizer reads paramGroups[i].lr at its next step; the kernels
 * get lr as a uniform, so nothing is recompiled or allocated.
 */

/**
 * What a scheduler needs of an optimizer: groups with a numeric lr (every wg.optim optimizer
 * fits); the first scheduler attached sets each group's initialLr from its lr.
 *
 * PyTorch: none (webgrad only; torch takes a `torch.optim.Optimizer`).
 * @example new wg.optim.lrScheduler.StepLR(opt, { stepSize: 10 }) // opt: any wg.optim optimizer
 */
export interface Schedulable {
  /** The optimizer's parameter groups: the scheduler writes each one's lr. */
  readonly paramGroups: { lr: number; initialLr?: number }[];
}

type Fields = Record<string, unknown>;

/**
 * The base of the schedulers, with torch's semantics: making one takes the initial step (so the
 * optimizer's lr is the schedule's value at step 0), and each `step()` writes every group's lr,
 * which the optimizer reads at its next step (nothing recompiles). `step()` uses the chainable
 * form, from the lr each group has now, so schedulers compose as in torch; `step(epoch)` the
 * closed form. `name` and `optimizer` are read-only properties. Call it after `optimizer.step()`.
 *
 * PyTorch: `torch.optim.lr_scheduler.LRScheduler` (`_LRScheduler` in 1.13).
 * @example const sched = new wg.optim.lrScheduler.CosineAnnealingLR(opt, { tMax: 1000 }); opt.step(); sched.step();
 */
export abstract class LRScheduler {
  /**
   * The base lr of each group: its initialLr, set from its lr by the first scheduler attached.
   *
   * PyTorch: `torch.optim.lr_scheduler.LRScheduler.base_lrs`.
   * @example sched.baseLrs // [0.1]
   */
  baseLrs: number[];
  /**
   * The index of the last step taken: 0 after the initial step the constructor takes, +1 per `step()`.
   *
   * PyTorch: `torch.optim.lr_scheduler.LRScheduler.last_epoch`.
   * @example sched.step(); sched.lastEpoch // 1
   */
  lastEpoch: number;
  /** @internal How many times step() ran (torch's _step_count; CosineAnnealingLR reads it). */
  stepCount = 0;
  private lastLr: number[] = [];

  constructor(
    /** The scheduler's class name, used in its error messages (e.g. `"StepLR"`). */
    readonly name: string,
    /** The optimizer whose groups' `lr` this scheduler writes. */
    readonly optimizer: Schedulable,
    lastEpoch = -1,
  ) {
    const groups = (optimizer as Partial<Schedulable>)?.paramGroups;
    if (!Array.isArray(groups) || groups.length === 0)
      throw new Error(`${name}: expected an optimizer with parameter groups, got ${optimizer === null ? "null" : typeof optimizer}. Fix: new wg.optim.lrScheduler.${name}(optimizer, { ... }) with a wg.optim optimizer.`);
    groups.forEach((g, i) => {
      if (typeof g?.lr !== "number" || !Number.isFinite(g.lr))
        throw new Error(`${name}: parameter group ${i} of the optimizer has no lr (got ${String(g?.lr)}), so there is nothing to schedule. Fix: schedule an optimizer whose groups have a numeric lr.`);
    });
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1)
      throw new Error(`${name}: lastEpoch must be an integer >= -1, got ${String(lastEpoch)}. Fix: leave it out (-1) to start a schedule, or give the last step taken to resume one.`);
    if (lastEpoch === -1) for (const g of groups) g.initialLr ??= g.lr;
    else
      groups.forEach((g, i) => {
        if (g.initialLr === undefined)
          throw new Error(`${name}: resuming at lastEpoch ${lastEpoch}, but parameter group ${i} has no initialLr. Fix: load the optimizer's state dict first, or start with lastEpoch -1.`);
      });
    this.baseLrs = groups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** The chainable form: each group's next lr from its lr now. */
  protected abstract getLr(): number[];
  /** The closed form at lastEpoch, from baseLrs; schedulers without one use getLr. */
  protected closedForm(): number[] | null {
    return null;
  }
  /** Hyperparameters kept in stateDict(), besides the counters. */
  protected abstract readonly hyper: readonly string[];

  /** @internal torch's _initial_step: the step every scheduler takes when made. */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /**
   * Advances one step (or jumps to `epoch`, with the closed form) and writes each group's lr;
   * throws if the optimizer's group count changed or an lr comes out non-finite.
   *
   * PyTorch: `torch.optim.lr_scheduler.LRScheduler.step` (an explicit epoch is deprecated there).
   * @example opt.step(); sched.step();
   */
  step(epoch?: number): void {
    const n = this.optimizer.paramGroups.length;
    if (n !== this.baseLrs.length)
      throw new Error(`${this.name}.step: the optimizer has ${n} parameter groups but the scheduler was made for ${this.baseLrs.length}. Fix: make the scheduler after the last addParamGroup.`);
    this.stepCount++;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch++;
      values = this.getLr();
    } else {
      if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`${this.name}.step: epoch must be a non-negative integer, got ${String(epoch)}. Fix: call step() with no argument.`);
      this.lastEpoch = epoch;
      values = this.closedForm() ?? this.getLr();
    }
    this.optimizer.paramGroups.forEach((g, i) => {
      if (!Number.isFinite(values[i]))
        throw new Error(`${this.name}.step: the lr of parameter group ${i} at step ${this.lastEpoch} came out ${values[i]}. Fix: check the scheduler's settings (and, for LambdaLR, that lrLambda returns a finite number).`);
      g.lr = values[i];
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  protected setLastLr(lrs: number[]): void {
    this.lastLr = [...lrs];
  }

  /**
   * The lr of each group after the last step, a copy.
   *
   * PyTorch: `torch.optim.lr_scheduler.LRScheduler.get_last_lr`.
   * @example new wg.optim.lrScheduler.StepLR(opt, { stepSize: 1, gamma: 0.5 }).getLastLr() // [0.1] for lr 0.1
   */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  protected get groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /**
   * The counters (baseLrs, lastEpoch, stepCount, lastLr) and settings as a plain JSON-able object,
   * not the optimizer (nor LambdaLR's functions); SequentialLR adds its schedulers' states.
   *
   * PyTorch: `torch.optim.lr_scheduler.LRScheduler.state_dict`.
   * @example JSON.stringify(sched.stateDict())
   */
  stateDict(): Fields {
    const out: Fields = { baseLrs: [...this.baseLrs], lastEpoch: this.lastEpoch, stepCount: this.stepCount, lastLr: [...this.lastLr] };
    for (const k of this.hyper) out[k] = (this as unknown as Fields)[k];
    return out;
  }

  /**
   * Restores what `stateDict()` returned, so a schedule resumes where it was; throws when the keys
   * are not this scheduler's. It does not write the optimizer's lr (load the optimizer's state too).
   *
   * PyTorch: `torch.optim.lr_scheduler.LRScheduler.load_state_dict`.
   * @example sched.loadStateDict(JSON.parse(saved))
   */
  loadStateDict(sd: Fields): void {
    const known = ["baseLrs", "lastEpoch", "stepCount", "lastLr", ...this.hyper];
    const unknown = Object.keys(sd ?? {}).filter((k) => !known.includes(k));
    if (sd === null || typeof sd !== "object" || unknown.length > 0 || !known.every((k) => k in sd))
      throw new Error(`${this.name}.loadStateDict: expected the keys ${known.join(", ")}, got ${sd === null || typeof sd !== "object" ? String(sd) : Object.keys(sd).join(", ")} (a state dict from another scheduler?). Fix: pass what ${this.name}.stateDict() returned.`);
    this.baseLrs = [...(sd.baseLrs as number[])];
    this.lastEpoch = sd.lastEpoch as number;
    this.stepCount = sd.stepCount as number;
    this.lastLr = [...(sd.lastLr as number[])];
    for (const k of this.hyper) (this as unknown as Fields)[k] = sd[k];
  }
}

function check(name: string, key: string, value: unknown, ok: (v: number) => boolean, range: string): void {
  if (typeof value !== "number" || !ok(value))
    throw new Error(`${name}: ${key} must be ${range}, got ${String(value)}. Fix: new wg.optim.lrScheduler.${name}(optimizer, { ${key}: ... }), where ${key} is ${range}.`);
}

/** The options object, checked before anything else (torch passes these positionally; webgrad by name). */
function options<T extends object>(name: string, opts: T | undefined, example: string, required: boolean): Partial<T> {
  if (opts === undefined && !required) return {};
  if (opts === null || typeof opts !== "object" || Array.isArray(opts))
    throw new Error(`${name}: expected its options as an object, got ${Array.isArray(opts) ? "an array" : String(opts)}. Fix: new wg.optim.lrScheduler.${name}(optimizer, ${example}).`);
  return opts;
}

/** Python's %, whose result takes the divisor's sign. */
const mod = (a: number, m: number) => ((a % m) + m) % m;

/**
 * Multiplies the lr by `gamma` (default 0.1) every `stepSize` steps (required, a positive
 * integer): base·gamma^⌊t/stepSize⌋. `lastEpoch` (default -1) resumes a schedule.
 *
 * PyTorch: `torch.optim.lr_scheduler.StepLR`.
 * @example new wg.optim.lrScheduler.StepLR(opt, { stepSize: 30, gamma: 0.1 })
 */
export class StepLR extends LRScheduler {
  /**
   * Steps between decays.
   *
   * PyTorch: `torch.optim.lr_scheduler.StepLR.step_size`.
   * @example new wg.optim.lrScheduler.StepLR(opt, { stepSize: 30 }).stepSize // 30
   */
  readonly stepSize: number;
  /**
   * The factor applied at each decay (default 0.1).
   *
   * PyTorch: `torch.optim.lr_scheduler.StepLR.gamma`.
   * @example new wg.optim.lrScheduler.StepLR(opt, { stepSize: 30 }).gamma // 0.1
   */
  readonly gamma: number;
  protected readonly hyper = ["stepSize", "gamma"];
  constructor(optimizer: Schedulable, opts: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    super("StepLR", optimizer, options("StepLR", opts, "{ stepSize: 30, gamma: 0.1 }", true).lastEpoch);
    const { stepSize, gamma = 0.1 } = opts ?? ({} as { stepSize: number });
    check("StepLR", "stepSize", stepSize, (v) => Number.isInteger(v) && v >= 1, "a positive integer (it has no default)");
    check("StepLR", "gamma", gamma, (v) => Number.isFinite(v) && v >= 0, "a non-negative number");
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.initialStep();
  }
  protected getLr(): number[] {
    const t = this.lastEpoch;
    return t === 0 || t % this.stepSize !== 0 ? this.groupLrs : this.groupLrs.map((lr) => lr * this.gamma);
  }
  protected override closedForm(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/**
 * Anneals the lr along a cosine from base to `etaMin` (default 0) over `tMax` steps (required),
 * then back up, as torch: etaMin + (base − etaMin)(1 + cos(πt/tMax))/2. `lastEpoch` (default -1)
 * resumes a schedule.
 *
 * PyTorch: `torch.optim.lr_scheduler.CosineAnnealingLR`.
 * @example new wg.optim.lrScheduler.CosineAnnealingLR(opt, { tMax: 1000, etaMin: 1e-5 })
 */
export class CosineAnnealingLR extends LRScheduler {
  /**
   * Steps from the base lr down to etaMin (half a period).
   *
   * PyTorch: `torch.optim.lr_scheduler.CosineAnnealingLR.T_max`.
   * @example new wg.optim.lrScheduler.CosineAnnealingLR(opt, { tMax: 1000 }).tMax // 1000
   */
  readonly tMax: number;
  /**
   * The lowest lr (default 0).
   *
   * PyTorch: `torch.optim.lr_scheduler.CosineAnnealingLR.eta_min`.
   * @example new wg.optim.lrScheduler.CosineAnnealingLR(opt, { tMax: 1000 }).etaMin // 0
   */
  readonly etaMin: number;
  protected readonly hyper = ["tMax", "etaMin"];
  constructor(optimizer: Schedulable, opts: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    super("CosineAnnealingLR", optimizer, options("CosineAnnealingLR", opts, "{ tMax: 1000 }", true).lastEpoch);
    const { tMax, etaMin = 0 } = opts ?? ({} as { tMax: number });
    check("CosineAnnealingLR", "tMax", tMax, (v) => Number.isInteger(v) && v >= 1, "a positive integer (it has no default)");
    check("CosineAnnealingLR", "etaMin", etaMin, (v) => Number.isFinite(v) && v >= 0, "a non-negative number");
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch: t, tMax: T, etaMin: e } = this;
    if (t === 0) return this.groupLrs;
    if (this.stepCount === 1 && t > 0) return this.closedForm();
    // The step after a minimum: the recursive ratio below would divide by 1 + cos(π) = 0.
    if (mod(t - 1 - T, 2 * T) === 0) return this.groupLrs.map((lr, i) => lr + ((this.baseLrs[i] - e) * (1 - Math.cos(Math.PI / T))) / 2);
    return this.groupLrs.map((lr) => ((1 + Math.cos((Math.PI * t) / T)) / (1 + Math.cos((Math.PI * (t - 1)) / T))) * (lr - e) + e);
  }
  protected override closedForm(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }
}

/**
 * Warm-up (or decay): the lr is base × a factor going linearly from `startFactor` (default 1/3,
 * in (0, 1]) to `endFactor` (default 1, in [0, 1]) over `totalIters` steps (default 5), then
 * staying there. `lastEpoch` (default -1) resumes a schedule.
 *
 * PyTorch: `torch.optim.lr_scheduler.LinearLR`.
 * @example new wg.optim.lrScheduler.LinearLR(opt, { startFactor: 0.1, totalIters: 100 })
 */
export class LinearLR extends LRScheduler {
  /**
   * The factor at step 0 (default 1/3).
   *
   * PyTorch: `torch.optim.lr_scheduler.LinearLR.start_factor`.
   * @example new wg.optim.lrScheduler.LinearLR(opt, { startFactor: 0.1 }).startFactor // 0.1
   */
  readonly startFactor: number;
  /**
   * The factor from step totalIters on (default 1).
   *
   * PyTorch: `torch.optim.lr_scheduler.LinearLR.end_factor`.
   * @example new wg.optim.lrScheduler.LinearLR(opt).endFactor // 1
   */
  readonly endFactor: number;
  /**
   * Steps the factor takes to go from startFactor to endFactor (default 5).
   *
   * PyTorch: `torch.optim.lr_scheduler.LinearLR.total_iters`.
   * @example new wg.optim.lrScheduler.LinearLR(opt).totalIters // 5
   */
  readonly totalIters: number;
  protected readonly hyper = ["startFactor", "endFactor", "totalIters"];
  constructor(optimizer: Schedulable, opts: { startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number } = {}) {
    super("LinearLR", optimizer, options("LinearLR", opts, "{ startFactor: 0.1, totalIters: 100 }", false).lastEpoch);
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = opts ?? {};
    // torch 1.13 allows 0, then divides by zero on the second step; torch 2 requires > 0.
    check("LinearLR", "startFactor", startFactor, (v) => v > 0 && v <= 1, "in (0, 1]");
    check("LinearLR", "endFactor", endFactor, (v) => v >= 0 && v <= 1, "in [0, 1]");
    check("LinearLR", "totalIters", totalIters, (v) => Number.isInteger(v) && v >= 1, "a positive integer");
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch: t, startFactor: s, endFactor: e, totalIters: n } = this;
    if (t === 0) return this.groupLrs.map((lr) => lr * s);
    if (t > n) return this.groupLrs;
    // factor(t) / factor(t − 1) with factor(t) = s + (e − s)·t/n
    return this.groupLrs.map((lr) => lr * (1 + (e - s) / (n * s + (t - 1) * (e - s))));
  }
  protected override closedForm(): number[] {
    const { startFactor: s, endFactor: e, totalIters: n } = this;
    return this.baseLrs.map((b) => b * (s + ((e - s) * Math.min(n, this.lastEpoch)) / n));
  }
}

/**
 * Sets the lr to base × lrLambda(t) at step t: `lrLambda` is one function for all groups or an
 * array of one per group (required). The functions are not in `stateDict()`. `lastEpoch`
 * (default -1) resumes a schedule.
 *
 * PyTorch: `torch.optim.lr_scheduler.LambdaLR`.
 * @example new wg.optim.lrScheduler.LambdaLR(opt, { lrLambda: (epoch) => 0.95 ** epoch })
 */
export class LambdaLR extends LRScheduler {
  /**
   * The function of each group (one given for all is repeated per group).
   *
   * PyTorch: `torch.optim.lr_scheduler.LambdaLR.lr_lambdas`.
   * @example new wg.optim.lrScheduler.LambdaLR(opt, { lrLambda: (t) => 0.9 ** t }).lrLambdas.length // opt.paramGroups.length
   */
  readonly lrLambdas: ((epoch: number) => number)[];
  protected readonly hyper: readonly string[] = [];
  constructor(optimizer: Schedulable, opts: { lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[]; lastEpoch?: number }) {
    super("LambdaLR", optimizer, options("LambdaLR", opts, "{ lrLambda: (epoch) => 0.95 ** epoch }", true).lastEpoch);
    const f = opts?.lrLambda;
    const n = optimizer.paramGroups.length;
    const fs = Array.isArray(f) ? f : Array.from({ length: n }, () => f);
    if (fs.length !== n || fs.some((g) => typeof g !== "function"))
      throw new Error(`LambdaLR: lrLambda must be a function or ${n} functions (one per parameter group), got ${Array.isArray(f) ? `${f.length} items` : typeof f}. Fix: { lrLambda: (epoch) => 0.95 ** epoch }.`);
    this.lrLambdas = fs;
    this.initialStep();
  }
  protected getLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.lrLambdas[i](this.lastEpoch));
  }
}

/**
 * Runs schedulers one after another: `schedulers[i]` drives the lr from step `milestones[i − 1]`,
 * restarted at its epoch 0 there. Every scheduler must be built on the same optimizer, and there
 * is one milestone fewer than schedulers (increasing positive integers).
 *
 * PyTorch: `torch.optim.lr_scheduler.SequentialLR`.
 * @example new wg.optim.lrScheduler.SequentialLR(opt, { schedulers: [warmup, cosine], milestones: [100] })
 */
export class SequentialLR extends LRScheduler {
  /**
   * The schedulers, in the order they run.
   *
   * PyTorch: `torch.optim.lr_scheduler.SequentialLR._schedulers`.
   * @example sched.schedulers.length // 2
   */
  readonly schedulers: LRScheduler[];
  /**
   * The steps at which the next scheduler takes over (a copy of the option).
   *
   * PyTorch: `torch.optim.lr_scheduler.SequentialLR._milestones`.
   * @example sched.milestones // [100]
   */
  readonly milestones: number[];
  protected readonly hyper = ["milestones"];
  constructor(optimizer: Schedulable, opts: { schedulers: LRScheduler[]; milestones: number[]; lastEpoch?: number }) {
    super("SequentialLR", optimizer, options("SequentialLR", opts, "{ schedulers: [warmup, cosine], milestones: [100] }", true).lastEpoch);
    const { schedulers, milestones } = opts ?? ({} as { schedulers: LRScheduler[]; milestones: number[] });
    if (!Array.isArray(schedulers) || schedulers.length === 0 || schedulers.some((s) => !(s instanceof LRScheduler)))
      throw new Error(`SequentialLR: schedulers must be a non-empty array of schedulers, got ${String(schedulers)}. Fix: { schedulers: [warmup, cosine], milestones: [warmupSteps] }.`);
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) throw new Error(`SequentialLR: scheduler ${i} (${s.name}) belongs to another optimizer. Fix: build every scheduler on the optimizer given to SequentialLR.`);
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1 || milestones.some((m, i) => !Number.isInteger(m) || m < 1 || (i > 0 && m <= milestones[i - 1])))
      throw new Error(`SequentialLR: milestones must be ${schedulers.length - 1} increasing positive integers (one fewer than the ${schedulers.length} schedulers), got ${JSON.stringify(milestones)}. Fix: e.g. { schedulers: [warmup, cosine], milestones: [100] }.`);
    this.schedulers = schedulers;
    this.milestones = [...milestones];
    // As torch: undo the initial step every scheduler took when made, then redo the first one's.
    this.lastEpoch++;
    for (const g of optimizer.paramGroups) g.lr = g.initialLr as number;
    for (const s of schedulers) s.lastEpoch--;
    schedulers[0].initialStep();
    this.setLastLr(schedulers[0].getLastLr());
  }
  /**
   * Advances one step: the scheduler whose stretch this step is in takes it (a milestone restarts
   * the next scheduler at its epoch 0). Takes no epoch.
   *
   * PyTorch: `torch.optim.lr_scheduler.SequentialLR.step`.
   * @example opt.step(); sched.step();
   */
  override step(...args: unknown[]): void {
    // The base class's step(epoch) would be a silent no-op here: refuse it, as torch's step() takes no epoch.
    if (args.length > 0)
      throw new Error(`SequentialLR.step: takes no epoch (got ${String(args[0])}), as torch.optim.lr_scheduler.SequentialLR. Fix: call sched.step() once per step.`);
    this.lastEpoch++;
    const idx = this.milestones.filter((m) => m <= this.lastEpoch).length; // bisect_right
    const s = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s.step(0);
    else s.step();
    this.setLastLr(s.getLastLr());
  }
  protected getLr(): number[] {
    return this.groupLrs; // unused: step() delegates
  }
  /**
   * Its own counters and milestones plus each scheduler's `stateDict()` under `schedulers`.
   *
   * PyTorch: `torch.optim.lr_scheduler.SequentialLR.state_dict`.
   * @example sched.stateDict().schedulers.length // 2
   */
  override stateDict(): Fields {
    return { ...super.stateDict(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }
  /**
   * Restores what `stateDict()` returned, its own counters and each scheduler's; throws when the scheduler count differs.
   *
   * PyTorch: `torch.optim.lr_scheduler.SequentialLR.load_state_dict`.
   * @example sched.loadStateDict(saved)
   */
  override loadStateDict(sd: Fields): void {
    const { schedulers, ...rest } = sd ?? {};
    if (!Array.isArray(schedulers) || schedulers.length !== this.schedulers.length)
      throw new Error(`SequentialLR.loadStateDict: expected the states of ${this.schedulers.length} schedulers, got ${Array.isArray(schedulers) ? schedulers.length : String(schedulers)}. Fix: pass what SequentialLR.stateDict() returned.`);
    super.loadStateDict(rest);
    schedulers.forEach((s, i) => this.schedulers[i].loadStateDict(s as Fields));
  }
}
