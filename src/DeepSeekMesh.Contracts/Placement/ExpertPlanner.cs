namespace DeepSeekMesh.Contracts.Placement;

/// <summary>
/// Computes the expert placement plan: every (layer, expert) gets one replica (hot experts more),
/// each on one live, non-draining expert silo, balanced per layer by expected rows (the measured load,
/// uniform without measurements) within each silo's capacity, moving as little as possible from the
/// previous plan: replicas stay where they are unless their silo left, drains or is overloaded. A join
/// therefore moves about 1/N of the experts, a leave only that silo's. Pure: no clock, no randomness.
/// </summary>
public sealed class ExpertPlanner(ExpertPlannerOptions? options = null)
{
    readonly ExpertPlannerOptions _options = options ?? new ExpertPlannerOptions();

    /// <param name="layers">The model's MoE layers.</param>
    /// <param name="expertsPerLayer">n_routed_experts.</param>
    /// <param name="silos">Live expert silos.</param>
    /// <param name="load">Recent rows per expert, MoE layer → [expertsPerLayer]; missing layers count as uniform.</param>
    /// <param name="previous">The plan in force, whose placements are kept where they can be.</param>
    /// <param name="version">The version to give the result.</param>
    public ExpertPlacementPlan Plan(IReadOnlyList<int> layers, int expertsPerLayer, IReadOnlyList<PlannedSilo> silos,
        IReadOnlyDictionary<int, long[]>? load, ExpertPlacementPlan? previous, long version)
    {
        var layerIds = layers.Order().ToArray();
        // Draining silos take nothing new; if every silo drains, there is nowhere else to go.
        var eligible = silos.Where(s => !s.Draining).ToList();
        if (eligible.Count == 0) eligible = silos.ToList();
        if (eligible.Count == 0) return ExpertPlacementPlan.Empty(layerIds, expertsPerLayer).WithVersion(version);
        eligible.Sort((a, b) => string.CompareOrdinal(a.Address, b.Address));
        int n = eligible.Count;
        var slotOf = eligible.Select((s, i) => (s.Address, i)).ToDictionary(p => p.Address, p => p.i);
        var capacity = eligible.Select(s => s.Capacity is { } c ? Math.Max(c, 0) : int.MaxValue).ToArray();
        var used = new int[n];
        var replicas = new int[layerIds.Length * expertsPerLayer][];

        for (int l = 0; l < layerIds.Length; l++)
        {
            var weights = ExpectedRows(load?.GetValueOrDefault(layerIds[l]), expertsPerLayer, _options.PriorRows);
            var units = Units(weights, n);
            var silo = new int[units.Count]; // unit → silo slot, -1 unplaced
            Array.Fill(silo, -1);
            var rows = new double[n];
            var holds = new HashSet<(int Slot, int Expert)>();

            void Assign(int u, int s)
            {
                silo[u] = s;
                rows[s] += units[u].Weight;
                used[s]++;
                holds.Add((s, units[u].Expert));
            }

            // 1. Keep what the previous plan placed on a silo that is still eligible and has room.
            for (int u = 0; u < units.Count; u++)
            {
                var (expert, replica, _) = units[u];
                if (previous?.SiloOf(layerIds[l], expert, replica) is { } address && slotOf.TryGetValue(address, out var s)
                    && used[s] < capacity[s] && !holds.Contains((s, expert)))
                    Assign(u, s);
            }
            // 2. Place the rest, heaviest first, on the silo with the fewest expected rows that has room.
            foreach (var u in Enumerable.Range(0, units.Count).Where(u => silo[u] < 0).OrderByDescending(u => units[u].Weight).ToList())
            {
                int expert = units[u].Expert;
                int best = Lightest(rows, s => used[s] < capacity[s] && !holds.Contains((s, expert)), used);
                if (best < 0) best = Lightest(rows, s => !holds.Contains((s, expert)), used); // over capacity: least loaded
                if (best < 0) best = Lightest(rows, _ => true, used);
                Assign(u, best);
            }
            // 3. Rebalance: move a replica from the busiest silo to the lightest while that lowers the busiest
            //    by a meaningful amount (Tolerance × the mean): no churn on granularity or noise.
            double mean = rows.Sum() / n, limit = (1 + _options.Tolerance) * mean, worthIt = _options.Tolerance * mean;
            for (int iteration = 0; iteration < units.Count * 2; iteration++)
            {
                int max = Heaviest(rows);
                if (rows[max] <= limit) break;
                int min = Lightest(rows, s => s != max && used[s] < capacity[s], used);
                if (min < 0) break;
                int pick = -1;
                double best = worthIt;
                for (int u = 0; u < units.Count; u++)
                {
                    if (silo[u] != max || holds.Contains((min, units[u].Expert))) continue;
                    double gain = rows[max] - Math.Max(rows[max] - units[u].Weight, rows[min] + units[u].Weight);
                    if (gain > best) (pick, best) = (u, gain);
                }
                if (pick < 0) break;
                rows[max] -= units[pick].Weight;
                used[max]--;
                holds.Remove((max, units[pick].Expert));
                Assign(pick, min);
            }

            for (int e = 0; e < expertsPerLayer; e++)
                replicas[l * expertsPerLayer + e] = Enumerable.Range(0, units.Count).Where(u => units[u].Expert == e)
                    .OrderBy(u => units[u].Replica).Select(u => silo[u]).ToArray();
        }

        return new ExpertPlacementPlan
        {
            Version = version,
            Silos = eligible.Select(s => s.Address).ToArray(),
            Layers = layerIds,
            ExpertsPerLayer = expertsPerLayer,
            Replicas = replicas,
        };
    }

    /// <summary>
    /// Expected rows per expert: the measured counts plus a prior (so an idle expert still counts, no
    /// measurement means uniform, and a handful of tokens does not move anything).
    /// </summary>
    static double[] ExpectedRows(long[]? counts, int experts, double priorRows)
    {
        var weights = new double[experts];
        double total = counts?.Take(experts).Sum() ?? 0;
        double prior = Math.Max(Math.Max(priorRows, 1.0), 0.05 * total / experts);
        for (int e = 0; e < experts; e++)
            weights[e] = (counts is not null && e < counts.Length ? counts[e] : 0) + prior;
        return weights;
    }

    /// <summary>Replicas of each expert with their share of its rows: hot experts are split so each replica carries at most half a silo's fair share.</summary>
    List<(int Expert, int Replica, double Weight)> Units(double[] weights, int silos)
    {
        double total = weights.Sum(), mean = total / weights.Length, share = total / silos;
        var units = new List<(int, int, double)>();
        for (int e = 0; e < weights.Length; e++)
        {
            int count = 1;
            if (silos > 1 && weights[e] > _options.HotFactor * mean)
                count = Math.Clamp((int)Math.Ceiling(weights[e] / (share / 2)), 2, Math.Min(silos, Math.Max(_options.MaxReplicas, 1)));
            for (int r = 0; r < count; r++) units.Add((e, r, weights[e] / count));
        }
        return units;
    }

    static int Heaviest(double[] rows)
    {
        int best = 0;
        for (int s = 1; s < rows.Length; s++)
            if (rows[s] > rows[best]) best = s;
        return best;
    }

    static int Lightest(double[] rows, Func<int, bool> allowed, int[] used)
    {
        int best = -1;
        for (int s = 0; s < rows.Length; s++)
        {
            if (!allowed(s)) continue;
            if (best < 0 || rows[s] < rows[best] || (rows[s] == rows[best] && used[s] < used[best])) best = s;
        }
        return best;
    }
}
