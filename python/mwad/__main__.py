"""`python -m mwad ARGS`: the same as the `mwad` console script."""
from ._binary import main

if __name__ == "__main__":
    main()
