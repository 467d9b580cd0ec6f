using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DeepSeekMesh.ServiceDefaults;

/// <summary>
/// The OpenTelemetry GenAI semantic conventions for model servers, recorded once per generated
/// sequence (one choice of a request): <c>gen_ai.server.request.duration</c>,
/// <c>gen_ai.server.time_to_first_token</c>, <c>gen_ai.server.time_per_output_token</c> (seconds) and
/// <c>gen_ai.client.token.usage</c> (tokens, <c>gen_ai.token.type</c> = input | output — the
/// conventions define token usage only under that name). Bucket boundaries are the conventions'.
/// </summary>
public sealed class GenAiServerMetrics : IDisposable
{
    public const string RequestDurationName = "gen_ai.server.request.duration";
    public const string TimeToFirstTokenName = "gen_ai.server.time_to_first_token";
    public const string TimePerOutputTokenName = "gen_ai.server.time_per_output_token";
    public const string TokenUsageName = "gen_ai.client.token.usage";

    /// <summary>The value of <c>gen_ai.provider.name</c>.</summary>
    public const string ProviderName = "deepseekmesh";

    static readonly AsyncLocal<string?> CurrentOperation = new();

    /// <summary>
    /// The <c>gen_ai.operation.name</c> of the request on this async flow (set by the HTTP front end per
    /// route: <c>chat</c>, <c>text_completion</c>); <c>chat</c> when unset.
    /// </summary>
    public static string? Operation
    {
        get => CurrentOperation.Value;
        set => CurrentOperation.Value = value;
    }

    /// <summary>For code paths without dependency injection; hosts register their own through <see cref="IMeterFactory"/>.</summary>
    public static GenAiServerMetrics Default { get; } = new(null);

    readonly Meter _meter;
    readonly Histogram<double> _duration, _timeToFirstToken, _timePerOutputToken;
    readonly Histogram<long> _tokens;

    public GenAiServerMetrics(IMeterFactory? meterFactory)
    {
        _meter = meterFactory?.Create(Telemetry.MeterName) ?? new Meter(Telemetry.MeterName);
        _duration = _meter.CreateHistogram(RequestDurationName, "s",
            "Generative AI server request duration: from the request to its last output token",
            advice: Buckets([0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]));
        _timeToFirstToken = _meter.CreateHistogram(TimeToFirstTokenName, "s",
            "Time to generate the first token, for successful responses",
            advice: Buckets([0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]));
        _timePerOutputToken = _meter.CreateHistogram(TimePerOutputTokenName, "s",
            "Time per output token generated after the first token, for successful responses",
            advice: Buckets([0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5]));
        _tokens = _meter.CreateHistogram<long>(TokenUsageName, "{token}",
            "Number of input and output tokens used",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864] });
    }

    static InstrumentAdvice<double> Buckets(double[] boundaries) => new() { HistogramBucketBoundaries = boundaries };

    /// <summary>Starts timing one sequence of <paramref name="inputTokens"/> prompt tokens for <paramref name="model"/>.</summary>
    public GenAiRequest Begin(string model, int inputTokens) => new(this, model, inputTokens, Operation ?? "chat");

    internal void Record(GenAiRequest r, string? errorType)
    {
        long now = Stopwatch.GetTimestamp();
        var tags = new TagList
        {
            { "gen_ai.operation.name", r.OperationName },
            { "gen_ai.provider.name", ProviderName },
            { "gen_ai.request.model", r.Model },
            { "gen_ai.response.model", r.Model },
        };
        var duration = Stopwatch.GetElapsedTime(r.Started, now).TotalSeconds;
        if (errorType is not null)
        {
            var failed = tags;
            failed.Add("error.type", errorType);
            _duration.Record(duration, failed);
            return;
        }
        _duration.Record(duration, tags);
        if (r.FirstToken != 0)
            _timeToFirstToken.Record(Stopwatch.GetElapsedTime(r.Started, r.FirstToken).TotalSeconds, tags);
        if (r.OutputTokens > 1)
            _timePerOutputToken.Record(Stopwatch.GetElapsedTime(r.FirstToken, r.LastToken).TotalSeconds / (r.OutputTokens - 1), tags);
        var input = tags;
        input.Add("gen_ai.token.type", "input");
        _tokens.Record(r.InputTokens, input);
        var output = tags;
        output.Add("gen_ai.token.type", "output");
        _tokens.Record(r.OutputTokens, output);
    }

    public void Dispose() => _meter.Dispose();
}

/// <summary>
/// One generated sequence being measured: call <see cref="Token"/> per output token and
/// <see cref="Complete"/> or <see cref="Fail"/> at the end (the first of them records; later calls are ignored).
/// </summary>
public sealed class GenAiRequest
{
    readonly GenAiServerMetrics _metrics;
    int _recorded;

    internal GenAiRequest(GenAiServerMetrics metrics, string model, int inputTokens, string operationName)
    {
        _metrics = metrics;
        Model = model;
        InputTokens = inputTokens;
        OperationName = operationName;
        Started = Stopwatch.GetTimestamp();
    }

    public string Model { get; }
    public string OperationName { get; }
    public int InputTokens { get; }
    public int OutputTokens { get; private set; }
    internal long Started { get; }
    internal long FirstToken { get; private set; }
    internal long LastToken { get; private set; }

    public void Token()
    {
        LastToken = Stopwatch.GetTimestamp();
        if (OutputTokens++ == 0) FirstToken = LastToken;
    }

    /// <summary>The sequence finished (a stop token, a stop string or the length limit).</summary>
    public void Complete()
    {
        if (Interlocked.Exchange(ref _recorded, 1) == 0) _metrics.Record(this, null);
    }

    /// <summary>The sequence ended without finishing: <paramref name="error"/>'s type names it (<c>cancelled</c> when the client left).</summary>
    public void Fail(Exception? error)
    {
        if (Interlocked.Exchange(ref _recorded, 1) != 0) return;
        _metrics.Record(this, error switch
        {
            null or OperationCanceledException => "cancelled",
            _ => error.GetType().Name,
        });
    }
}
