name = "t"
resources = ["logs", "rg"]   # <- error
# expect: 2: 'resources' must be a map, got a list
