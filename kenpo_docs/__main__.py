from kenpo_docs.cli import main

main()
