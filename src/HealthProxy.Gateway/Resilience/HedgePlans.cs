using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace HealthProxy.Gateway.Resilience;

/// <summary>
/// The hedge plans of outgoing requests, from the request transform that makes them to the handler that carries
/// them out. Kept beside the request they belong to (a <see cref="ConditionalWeakTable{TKey, TValue}"/>): the handler
/// takes its plan out, and a request never sent takes its plan with it when it goes. A request without a plan costs
/// the handler one lock-free lookup and no allocation (touching <see cref="HttpRequestMessage.Options"/> would allocate it).
/// </summary>
internal sealed class HedgePlans
{
    private readonly ConditionalWeakTable<HttpRequestMessage, HedgePlan> _plans = new();

    public void Attach(HttpRequestMessage request, HedgePlan plan) => _plans.AddOrUpdate(request, plan);

    /// <summary>Takes <paramref name="request"/>'s plan out; false when it has none.</summary>
    public bool TryTake(HttpRequestMessage request, [NotNullWhen(true)] out HedgePlan? plan)
    {
        if (!_plans.TryGetValue(request, out plan))
        {
            return false;
        }

        _plans.Remove(request);
        return true;
    }
}
