from arielml.cli import main

main()
