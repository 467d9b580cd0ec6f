using DeepSeekMesh.Gateway.Protocol;

namespace DeepSeekMesh.Gateway.Serving;

/// <summary>What a <see cref="ServingStream"/> yields: choice deltas, then the usage — or a failure that ends it.</summary>
public abstract record ServingEvent;

/// <summary>A choice's text delta, logprob and finish reason; <see cref="First"/> on the choice's first event.</summary>
public sealed record ChoiceDelta(ChoiceEvent Choice, bool First) : ServingEvent;

/// <summary>The request's usage, after every choice finished.</summary>
public sealed record UsageReport(Usage Usage) : ServingEvent;

/// <summary>The cluster failed after the response started: the error travels as the stream's last event.</summary>
public sealed record StreamFailed(ApiException Error) : ServingEvent;
