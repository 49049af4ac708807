"""What an order is: its models, how its result reads at SmartRecruiters, its search attributes
and the names of its activities. The domain imports nothing of ours; the services that use it
(ordering/, the workflows, the clients) stand above it (docs/architecture.md)."""
