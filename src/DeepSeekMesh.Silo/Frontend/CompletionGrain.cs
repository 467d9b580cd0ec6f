using System.Runtime.CompilerServices;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.Silo.Mesh;
using DeepSeekMesh.Silo.Placement;
using Orleans.GrainDirectory;
using Orleans.Runtime;
using Orleans.Placement;

namespace DeepSeekMesh.Silo.Frontend;

/// <summary>
/// One completion request (key: request id) on a frontend silo — the gateway's silo when it is a
/// frontend, else any frontend. Hands the request to the silo's engine and streams the tokens as
/// they are sampled; when the caller stops enumerating (or cancels), the sequence ends and its KV
/// cache blocks are freed. A prompt with a prefix key in the request context goes to the frontend that
/// prefix has affinity with (<see cref="FrontendAffinity"/>: where its prefix cache likely is).
/// </summary>
[FrontendSilosOnly]
[FrontendAffinity]
[PreferLocalPlacement]
[GrainType("dsm-completion")]
[GrainDirectory(GrainDirectoryName = Hosting.MeshSiloBuilderExtensions.CompletionDirectory)]
public sealed class CompletionGrain(MeshFrontend frontend, ILocalSiloDetails silo) : Grain, ICompletionGrain
{
    public Task<string> Silo() => Task.FromResult(silo.SiloAddress.ToParsableString());

    public async IAsyncEnumerable<SampledToken> Generate(int[] prompt, SamplingParams sampling, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var tokens = Start(new EngineRequest(prompt, sampling), cancel.Token);
        try
        {
            while (await Next(tokens))
            {
                var token = tokens.Current;
                yield return token;
                if (token.FinishReason != FinishReason.None) break;
            }
        }
        finally
        {
            cancel.Cancel(); // a caller that left early ends the sequence
            await tokens.DisposeAsync();
            DeactivateOnIdle(); // one request per grain
        }
    }

    IAsyncEnumerator<SampledToken> Start(EngineRequest request, CancellationToken cancellationToken)
    {
        if (!frontend.Enabled) throw new CompletionRejectedException(CompletionRejection.NoEngine, "this silo runs no engine");
        try
        {
            return frontend.Engine.GenerateAsync(request, cancellationToken).GetAsyncEnumerator(cancellationToken);
        }
        catch (Exception e) when (Rejection(e) is { } rejected)
        {
            throw rejected;
        }
    }

    static async ValueTask<bool> Next(IAsyncEnumerator<SampledToken> tokens)
    {
        try
        {
            return await tokens.MoveNextAsync();
        }
        catch (Exception e) when (Rejection(e) is { } rejected)
        {
            throw rejected;
        }
    }

    /// <summary>The engine's refusals as one serializable exception the gateway maps to HTTP statuses.</summary>
    static CompletionRejectedException? Rejection(Exception e) => e switch
    {
        EngineOverloadedException => new(CompletionRejection.Overloaded, e.Message),
        RequestTooLargeException => new(CompletionRejection.TooLarge, e.Message),
        SamplingParamsException s => new(CompletionRejection.InvalidRequest, s.Message, s.ParameterName),
        ArgumentException => new(CompletionRejection.InvalidRequest, e.Message, "prompt"),
        _ => null,
    };
}
