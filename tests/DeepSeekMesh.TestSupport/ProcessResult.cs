namespace DeepSeekMesh.TestSupport;

/// <summary>What a finished child process printed and returned.</summary>
public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);
