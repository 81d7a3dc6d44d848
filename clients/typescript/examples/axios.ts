// Seed 001, "Axios 사용": the caller passes its own axios instance, so this example needs
// axios only for its types (`import type` leaves nothing behind at run time).
import type { AxiosError, AxiosInstance } from "axios";
import type { ErrorResponse, P95Params, P95Response } from "../src/client";

export async function loadP95(http: AxiosInstance, baseUrl = "http://localhost:8000"): Promise<P95Response | null> {
  const params: P95Params = { time_range: "10m", metric_name: "request_duration_seconds" };
  try {
    const response = await http.get<P95Response>(`${baseUrl}/api/metrics/p95/`, { params });
    console.log("metrics:", response.data);
    return response.data;
  } catch (error) {
    const body = (error as AxiosError<ErrorResponse>).response?.data;
    console.error("error:", body?.error ?? error);
    return null;
  }
}
