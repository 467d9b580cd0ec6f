namespace DeepSeekMesh.Sampling.Structured;

/// <summary>The schema expands to more automaton states than <see cref="Nfa.MaxStates"/>.</summary>
internal sealed class SchemaTooLargeException() : Exception($"the schema expands to more than {Nfa.MaxStates} automaton states");
