from cp_models.registry.cli import main

raise SystemExit(main())
