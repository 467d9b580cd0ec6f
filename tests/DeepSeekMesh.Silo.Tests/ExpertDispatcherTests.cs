using System.Collections.Concurrent;
using DeepSeekMesh.Contracts.Mesh;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>How the frontend's engine calls the expert silos.</summary>
public sealed class ExpertDispatcherTests
{
    /// <summary>
    /// The engine runs on its own thread; Orleans keeps each call's response source in a per-thread
    /// pool (taken where the call starts, returned where it completes). Expert calls started on the
    /// engine's thread left one behind per call, forever (the soak's frontend grew ~2.5 MiB a minute),
    /// so they must start on thread-pool threads.
    /// </summary>
    [Fact]
    public async Task ExpertCallsStartOnThreadPoolThreadsNotOnTheEngineThread()
    {
        var starts = new ConcurrentQueue<(string Call, bool Pool, string Thread)>();
        await using var mesh = await MeshCluster.StartAsync(TestModels.Tiny, expertSilos: 2, configureSilo: silo =>
            silo.AddOutgoingGrainCallFilter(context =>
            {
                if (context.InterfaceName.Contains(nameof(IMeshSiloGrain)) || context.InterfaceName.Contains("IExpertGrain"))
                    if (context.MethodName == "Forward")
                        starts.Enqueue((context.InterfaceName, Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name ?? ""));
                return context.Invoke();
            }));

        await Runs.Complete(mesh.Client, [1, 2, 3], Runs.Greedy(4)); // before the plan: one call per expert
        await mesh.WaitForPlanAsync(2);
        await Runs.Complete(mesh.Client, [4, 5, 6], Runs.Greedy(4)); // by the plan: one batch per expert silo

        Assert.Contains(starts, s => s.Call.Contains(nameof(IMeshSiloGrain)));
        var offPool = starts.Where(s => !s.Pool).ToArray();
        Assert.True(offPool.Length == 0,
            $"{offPool.Length} of {starts.Count} expert calls started off the thread pool, e.g. {offPool.FirstOrDefault().Call} on thread '{offPool.FirstOrDefault().Thread}'");
    }
}
