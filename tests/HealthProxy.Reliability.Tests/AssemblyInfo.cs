// The scenarios put the gateway under load and measure it; two at once would measure each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
