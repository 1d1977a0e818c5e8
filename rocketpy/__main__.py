import gc

gc.disable()  # while trio and the CLI load; rocketpy.cli starts the event loop with the collector on (issue 12)

from rocketpy.cli import main  # noqa: E402

raise SystemExit(main())
