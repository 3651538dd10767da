from cp_fleet.cli import main

raise SystemExit(main())
