from rocketpy.cli import main

raise SystemExit(main())
