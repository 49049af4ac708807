"""Taking SmartRecruiters' orders: the packages a company can order (catalog), each order turned
into its workflow exactly once (intake), and how many stand open (census). What an order is, its
models and results, is the orders package's; this one serves it, above the workflows."""
