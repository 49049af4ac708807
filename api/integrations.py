"""DELETE /integrations/companies/{companyId}: the company disconnected us in SmartRecruiters."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request, Response

from api.auth import Caller, smartrecruiters_caller

router = APIRouter(tags=["SmartRecruiters Connect"])


@router.delete("/integrations/companies/{companyId}", status_code=204, summary="The company disconnected the integration")
async def disconnect_company(request: Request, companyId: str = Path(min_length=1, max_length=200), caller: Caller = Depends(smartrecruiters_caller)):
    caller.check_acts_for(companyId)
    await request.app.state.disconnector.disconnect(companyId)
    return Response(status_code=204)
