using HealthProxy.Bench;

return args.FirstOrDefault() switch
{
    "alloc" => RoutingAllocation.Run(args.Skip(1).ToArray()),
    "steps" => StepCost.Run(args.Skip(1).ToArray()),
    "picks" => PickCost.Run(args.Skip(1).ToArray()),
    "scale" => await ScaleBench.RunAsync(args.Skip(1).ToArray()),
    "reconcile" => ProbeReconcile.Run(args.Skip(1).ToArray()),
    "probes" => await ProbeStorm.RunAsync(args.Skip(1).ToArray()),
    "churn" => await ChurnBench.RunAsync(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: HealthProxy.Bench alloc [iterations] | steps [iterations] | picks [iterations] | scale [services] [instances] [backend-port] | probes <gateway.dll> <work-dir> | reconcile [clusters] [destinations] | churn [rounds] [batch] [requests-per-round]");
    return 2;
}
