namespace Tina.MLNet.MLNet;

/// <summary>The prediction for one image.</summary>
/// <param name="ImagePath">The image file.</param>
/// <param name="Label">The predicted label.</param>
/// <param name="ClassIndex">Index of <paramref name="Label"/> among the model's labels.</param>
/// <param name="Score">Softmax probability of <paramref name="Label"/>.</param>
/// <param name="Scores">Softmax probabilities of all classes, in the model's label order.</param>
public sealed record TinaPrediction(string ImagePath, string Label, int ClassIndex, float Score, float[] Scores);
