using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Model.Engine;

/// <summary>
/// Sees each token of a request the moment it is sampled, on the engine's thread, before it is
/// streamed: <paramref name="request"/> is the request's index in its <see cref="InferenceEngine.GenerateAsync(IReadOnlyList{EngineRequest}, TokenObserver?, CancellationToken)"/>
/// call and <paramref name="logits"/> the row it was sampled from (valid only during the call).
/// Returning false ends that request after this token (the caller saw a stop string).
/// The engine waits for the observer, so it must be quick (or mean to hold the step, as a test may).
/// </summary>
public delegate bool TokenObserver(int request, SampledToken token, ReadOnlySpan<float> logits);
