using System.Runtime.CompilerServices;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.Silo.Mesh;
using DeepSeekMesh.Silo.Placement;
using Microsoft.Extensions.Options;
using Orleans.GrainDirectory;
using Orleans.Runtime;
using Orleans.Placement;

namespace DeepSeekMesh.Silo.Frontend;

/// <summary>
/// One completion request (key: request id) on a frontend silo — the gateway's silo when it is a
/// frontend, else any frontend. Hands the request to the silo's engine and streams the tokens as
/// they are sampled; when the caller stops enumerating (or cancels), the sequence ends and its KV
/// cache blocks are freed; however the request ends (finished, cancelled, refused, or never started
/// by a caller that went away) the grain deactivates. A prompt with a prefix key in the request context goes to the frontend that
/// prefix has affinity with (<see cref="FrontendAffinity"/>: where its prefix cache likely is).
/// </summary>
[FrontendSilosOnly]
[FrontendAffinity]
[PreferLocalPlacement]
[GrainType("dsm-completion")]
[GrainDirectory(GrainDirectoryName = Hosting.MeshSiloBuilderExtensions.CompletionDirectory)]
public sealed class CompletionGrain(MeshFrontend frontend, ILocalSiloDetails silo, IOptions<MeshSiloOptions> options) : Grain, ICompletionGrain
{
    bool _generating;

    /// <summary>
    /// Checks every <see cref="MeshSiloOptions.CompletionStartTimeout"/> that a generation runs, and
    /// leaves when none does: the gateway's first call only asks where the grain lives, and its client
    /// may leave before the generation starts. Nor did <c>DeactivateOnIdle</c> from the generation's
    /// end alone deactivate it (Orleans 10.4: finished, cancelled and refused grains all stayed active
    /// for the 15-minute collection age, each with its stream's cleanup timer — the soak's frontend
    /// grew by them).
    /// </summary>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var every = options.Value.CompletionStartTimeout;
        this.RegisterGrainTimer(() =>
        {
            if (!_generating) DeactivateOnIdle();
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(every, every) { KeepAlive = false });
        return Task.CompletedTask;
    }

    public Task<string> Silo() => Task.FromResult(silo.SiloAddress.ToParsableString());

    public async IAsyncEnumerable<SampledToken> Generate(int[] prompt, SamplingParams sampling, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        _generating = true;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        IAsyncEnumerator<SampledToken>? tokens = null;
        try
        {
            tokens = Start(new EngineRequest(prompt, sampling), cancel.Token); // a refusal throws here, and the grain still leaves
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
            if (tokens is not null) await tokens.DisposeAsync();
            _generating = false;
            DeactivateOnIdle(); // one request per grain (the timer makes sure)
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
