from bgone.cli import main

main()
