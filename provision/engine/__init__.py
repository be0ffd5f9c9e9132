"""The engine: stages become stacks, changed through one seam.

    protocol.py      the Engine protocol and its typed requests and results
    orchestrator.py  plan / apply / destroy of a resolved spec, stage by stage, on
                     stage_apply.py (one stage's phases: gate before, update, live
                     read and gate after, rollback) and stack_values.py (stack names,
                     snapshots, the values a stage declares, one stage's preview)
    hooks.py         the UI's progress hooks and the policy gate as the engine sees it
    report.py        stage outcomes, the run's report, skip reasons
    schedule.py      the DAG scheduler behind them (no level barriers, failure isolation)
    declare.py       a stage's desired state as data (StackProgram)
    changes.py       engine steps -> the plan's typed changes
    freshness.py     does a stage planned again still do what a saved plan showed?
    live.py          live state read back through the adapters (for the post-stage gate)
    runner.py        StackRunner: the Engine on the real Pulumi engine (the one module
                     that drives Pulumi), with program.py (StackProgram -> inline program),
                     pulumi_cli.py, pulumi_events.py, pulumi_workspace.py, pulumi_state.py
                     and dynamic.py (the dynamic provider that runs the adapters)
    testing.py       FakeEngine: the Engine in memory, for tests
    lock.py, journal.py, statestore.py
                     the environment lock and the run journal, kept on the state backend
    recovery.py      repair what a dead run left (stack locks, pending operations)
    supervise.py, _watchdog.py
                     every process of a run dies with it; a clean first interrupt
    passphrase.py    the state passphrase checked against each stack's salt
    clouds.py, toolchain.py  cloud settings per environment; the Pulumi CLI
"""
